/**
 * `npm run bench -- --json`: the side-by-side comparison ends with one JSON
 * line whose figures are consistent with each other, with PyTorch (Debian's
 * python3-torch, which .ci/run installs) and without it.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

const ROOT = path.join(import.meta.dirname, '..');

interface BenchJson {
  backend: string;
  torch: string | null;
  steps: {
    name: string;
    oursImgPerSec: number;
    torchImgPerSec: number | null;
    ratio: number | null;
    oursPeakRssMB: number;
    torchPeakRssMB: number | null;
    memoryRatio: number | null;
  }[];
  generate100BudgetsMs: number;
}

/** Runs the bench on the scoring step only, one timed step. */
function bench(env: NodeJS.ProcessEnv = {}): { json: BenchJson; stdout: string } {
  const child = spawnSync(process.execPath, ['--import', 'tsx', 'main/cli/bench.ts', '--json',
    '--steps', '1', '--warmup', '1', '--only', 'score-fmnist', '--rounds', '1'],
  { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ...env } });
  expect(child.status, child.stderr).toBe(0);
  const lines = child.stdout.trim().split('\n');
  return { json: JSON.parse(lines.at(-1) as string) as BenchJson, stdout: child.stdout };
}

describe('npm run bench -- --json', () => {
  it('ends with each step\'s images/s on both sides and their ratio', () => {
    const { json, stdout } = bench();

    expect(json.torch, 'PyTorch missing: apt-get install python3-torch').not.toBeNull();
    expect(json.steps.map((s) => s.name)).toEqual(['score-fmnist']);
    const [step] = json.steps;
    expect(step.oursImgPerSec).toBeGreaterThan(0);
    expect(step.torchImgPerSec).toBeGreaterThan(0);
    expect(step.ratio).toBeCloseTo(step.oursImgPerSec / (step.torchImgPerSec as number), 6);
    expect(step.memoryRatio).toBeCloseTo(step.oursPeakRssMB / (step.torchPeakRssMB as number), 6);
    expect(json.generate100BudgetsMs).toBeGreaterThan(0);
    expect(stdout).toMatch(/^score-fmnist\s/m);
  }, 180_000);

  it('refuses an unknown comparison, naming the known ones, before any work', () => {
    const child = spawnSync(process.execPath, ['--import', 'tsx', 'main/cli/bench.ts',
      '--only', 'supernet-imagenet'], { cwd: ROOT, encoding: 'utf8' });

    expect(child.status).toBe(2);
    expect(child.stderr).toContain("unknown comparison 'supernet-imagenet'");
    expect(child.stderr).toContain('supernet-fmnist-1-thread');
  });

  it('without PyTorch reports our side alone and says how to install it', () => {
    const { json, stdout } = bench({ SGNAS_PYTHON: path.join(ROOT, 'no-such-python') });

    expect(json.torch).toBeNull();
    expect(json.steps[0].oursImgPerSec).toBeGreaterThan(0);
    expect(json.steps[0].torchImgPerSec).toBeNull();
    expect(json.steps[0].ratio).toBeNull();
    expect(stdout).toContain('apt-get install python3-torch');
  }, 180_000);
});

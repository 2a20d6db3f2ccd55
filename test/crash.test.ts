/**
 * A run killed with SIGKILL at any point is found `interrupted` the next time
 * the registry opens, `runs resume` finishes it, its metrics have no gap and
 * no duplicate, and it ends with the same architectures as a run that was
 * never interrupted (wasm is deterministic). A damaged checkpoint is skipped,
 * with a message, in favour of the one before it.
 */
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { RunRegistry } from '../main/registry/index.js';
import { runCli, startCli, tinyHome, TINY_SEARCH } from './helpers/tinySearch.js';

interface Journalled {
  stage: string;
  epoch: number;
  step: number;
  name: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Starts a registered tiny search and SIGKILLs it once `when` holds for its journal. */
async function killDuring(
  home: string,
  configFile: string,
  when: (points: Journalled[]) => boolean,
): Promise<string> {
  const child = startCli(['search', '--config', configFile, '--quiet'], home);
  let runId = '';
  const deadline = Date.now() + 240_000;

  while (Date.now() < deadline) {
    runId ||= /run ([0-9a-f-]{36}) registered/.exec(child.output())?.[1] ?? '';
    const journal = runId && path.join(home, 'runs', runId, 'metrics.jsonl');
    if (journal && existsSync(journal)) {
      const lines = readFileSync(journal, 'utf8').split('\n').filter(Boolean);
      if (when(lines.map((l) => JSON.parse(l) as Journalled))) break;
    }
    if (child.exitCode !== null) throw new Error(`search ended before the kill:\n${child.output()}`);
    await sleep(50);
  }

  child.kill('SIGKILL');
  await new Promise((resolve) => child.on('exit', resolve));
  return runId;
}

async function openRegistry(db: string): Promise<RunRegistry> {
  const registry = await RunRegistry.open(db);
  await registry.markDeadRunsInterrupted();
  return registry;
}

/** Every (epoch, step) of a stage's loss appears exactly once, none missing. */
async function expectCompleteMetrics(registry: RunRegistry, runId: string) {
  const rows = await registry.getMetrics(runId, { name: 'loss' });
  const supernet = rows.filter((r) => r.stage === 'supernet').map((r) => `${r.epoch}:${r.step}`);
  const generator = rows.filter((r) => r.stage === 'generator').map((r) => `${r.epoch}:${r.step}`);

  // 128 images / batch 32 = 4 steps per epoch, 2 epochs; generator 2 x 2 steps.
  expect(supernet).toEqual(['1:1', '1:2', '1:3', '1:4', '2:1', '2:2', '2:3', '2:4']);
  expect(generator.sort()).toEqual(['1:1', '1:2', '2:1', '2:2']);
}

function architectures(home: string, runId: string): string[] {
  const summary = JSON.parse(
    readFileSync(path.join(home, 'runs', runId, 'results', 'summary.json'), 'utf8'),
  );
  return summary.architectures.map((a: { text: string }) => a.text);
}

describe('a search killed with SIGKILL', () => {
  let reference: string[];
  let env: ReturnType<typeof tinyHome>;

  beforeAll(async () => {
    env = tinyHome('sgnas-crash-');
    const { code, out } = await runCli(['search', '--config', env.configFile, '--quiet'], env.home);
    expect(code, out).toBe(0);
    const runId = /run ([0-9a-f-]{36}) registered/.exec(out)?.[1] as string;
    reference = architectures(env.home, runId);
  }, 300_000);

  afterAll(() => rmSync(env.home, { recursive: true, force: true }));

  it.each([
    ['mid-epoch of the supernet', (p: Journalled[]) =>
      p.some((x) => x.stage === 'supernet' && x.epoch === 2 && x.step === 2)],
    ['right after the first supernet checkpoint', (p: Journalled[]) =>
      p.some((x) => x.stage === 'supernet' && x.epoch === 1 && x.step === 4)],
    ['during generator training', (p: Journalled[]) =>
      p.some((x) => x.stage === 'generator' && x.epoch === 1 && x.step === 1)],
  ])('%s is interrupted, resumes, and ends as if never killed', async (_label, when) => {
    const runId = await killDuring(env.home, env.configFile, when);

    const registry = await openRegistry(env.db);
    expect((await registry.getRun(runId)).status).toBe('interrupted');
    await registry.close();

    const resumed = await runCli(['runs', 'resume', runId], env.home);
    expect(resumed.code, resumed.out).toBe(0);

    const after = await openRegistry(env.db);
    expect((await after.getRun(runId)).status).toBe('completed');
    await expectCompleteMetrics(after, runId);
    await after.close();
    expect(architectures(env.home, runId)).toEqual(reference);
  }, 400_000);

  it('resumes from the checkpoint before a damaged one, and says so', async () => {
    const runId = await killDuring(env.home, env.configFile, (p) =>
      p.some((x) => x.stage === 'supernet' && x.epoch === 2 && x.step === 1),
    );
    const checkpoints = path.join(env.home, 'runs', runId, 'checkpoints');
    const newest = readdirSync(checkpoints).filter((n) => n.startsWith('supernet-epoch')).sort();
    expect(newest).toEqual(['supernet-epoch-0001']);

    // Fake a completed epoch-2 checkpoint whose weights were damaged on disk,
    // and a half-written folder a kill mid-save would leave behind.
    const good = path.join(checkpoints, 'supernet-epoch-0001');
    const damaged = path.join(checkpoints, 'supernet-epoch-0002');
    mkdirSync(damaged);
    for (const file of readdirSync(good)) {
      writeFileSync(path.join(damaged, file), readFileSync(path.join(good, file)));
    }
    const params = path.join(damaged, 'params.bin');
    const bytes = readFileSync(params);
    bytes[100] ^= 0xff;
    writeFileSync(params, bytes);
    mkdirSync(path.join(checkpoints, '.supernet-epoch-0003.partial-999'));

    const resumed = await runCli(['runs', 'resume', runId], env.home);
    expect(resumed.code, resumed.out).toBe(0);
    expect(resumed.out).toMatch(/skipping damaged checkpoint .*supernet-epoch-0002/);
    expect(resumed.out).toMatch(/resuming from .*supernet-epoch-0001/);
    expect(architectures(env.home, runId)).toEqual(reference);
  }, 400_000);

  it('uses the tiny configuration the metric checks assume', () => {
    expect(TINY_SEARCH.supernet.trainSubset / TINY_SEARCH.supernet.batchSize).toBe(4);
  });
});

/**
 * The command line as scripts and users meet it: machine-readable outputs,
 * bad options refused before any work starts (exit code 2, nothing written),
 * and a search that is repeatable for the same seed and backend.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import { runCli, tinyHome } from './helpers/tinySearch.js';

const env = tinyHome('sgnas-cli-');
afterAll(() => rmSync(env.home, { recursive: true, force: true }));

function archFile(name: string, layers: string[][]): string {
  const file = path.join(env.home, name);
  writeFileSync(file, JSON.stringify({ layers }));
  return file;
}

const uniform = (count: number, ops: string[]) => Array.from({ length: count }, () => [...ops]);
const SMALLEST = ['3x3', '3x3', 'skip', 'skip', 'skip', 'skip'];
const ALL_7 = ['7x7', '7x7', '7x7', '7x7', '7x7', '7x7'];

describe('sgnas cost', () => {
  it('prints the reference FLOPs of method.md for the cifar preset', async () => {
    // method.md section 4: every layer "sub-blocks 0,1 3x3, rest skip" is
    // 51.290112 MFLOPs at 32x32; all 7x7 is 171.761664; 100 classes gives the
    // 1,539,492 parameters of section 8b.
    const small = archFile('small.json', uniform(19, SMALLEST));
    const { code, out } = await runCli(
      ['cost', '--preset', 'cifar', '--classes', '100', '--arch', small], env.home);
    expect(code, out).toBe(0);
    const result = JSON.parse(out.trim().split('\n').pop() as string);
    expect(result.flopsM).toBeCloseTo(51.290112, 6);
    expect(result.params).toBe(1_539_492);

    const large = archFile('large.json', uniform(19, ALL_7));
    const big = await runCli(['cost', '--preset', 'cifar', '--arch', large], env.home);
    expect(JSON.parse(big.out.trim()).flopsM).toBeCloseTo(171.761664, 6);
  });

  it('refuses an architecture with the wrong layer count, naming the counts', async () => {
    const file = archFile('short.json', uniform(3, SMALLEST));
    const { code, out } = await runCli(['cost', '--preset', 'cifar', '--arch', file], env.home);
    expect(code).toBe(2);
    expect(out).toMatch(/19 searchable layers, but the architecture has 3/);
  });

  it('refuses a skip out of place with FS on, and accepts it with --no-forced-sampling', async () => {
    const layers = uniform(19, SMALLEST);
    layers[4] = ['3x3', '3x3', 'skip', '5x5', 'skip', 'skip'];
    const file = archFile('fs.json', layers);

    const refused = await runCli(['cost', '--preset', 'cifar', '--arch', file], env.home);
    expect(refused.code).toBe(2);
    expect(refused.out).toMatch(/layer 5/);

    const accepted = await runCli(
      ['cost', '--preset', 'cifar', '--arch', file, '--no-forced-sampling'], env.home);
    expect(accepted.code, accepted.out).toBe(0);
  });

  it('refuses an expansion below the minimum, naming the layer', async () => {
    const layers = uniform(19, SMALLEST);
    layers[0] = ['3x3', 'skip', 'skip', 'skip', 'skip', 'skip'];
    const file = archFile('e1.json', layers);
    const { code, out } = await runCli(['cost', '--preset', 'cifar', '--arch', file], env.home);
    expect(code).toBe(2);
    expect(out).toMatch(/layer 1/);
  });
});

describe('bad search options are refused before any work starts', () => {
  it.each([
    [['--preset', 'mnist-huge'], /unknown preset 'mnist-huge'/],
    [['--lambda', '-1'], /generator\.lambda/],
    [['--constraint', '0.1,0.3'], /constraint interval 0\.1\.\.0\.3 MFLOPs leaves preset/],
    [['--supernet-epochs', 'three'], /--supernet-epochs expects a number/],
    [['--frobnicate'], /unknown option --frobnicate/],
  ])('search %j', async (args, message) => {
    const { code, out } = await runCli(['search', ...args, '--quiet'], env.home);
    expect(code).toBe(2);
    expect(out).toMatch(message);
    expect(existsSync(env.db)).toBe(false);
  });

  it('a malformed --config file is named with the parser\'s complaint', async () => {
    const file = path.join(env.home, 'broken.json');
    writeFileSync(file, '{"seed": 3,');
    const { code, out } = await runCli(['search', '--config', file], env.home);
    expect(code).toBe(2);
    expect(out).toMatch(/broken\.json is not valid JSON/);
  });

  it('generate on a folder that is not a run folder says what to pass', async () => {
    const dir = path.join(env.home, 'no-such-run');
    const missing = await runCli(['generate', '--run', dir, '--budgets', '1'], env.home);
    expect(missing.code).toBe(1);
    expect(missing.out).toMatch(/is not a run folder/);
  });
});

describe('a tiny search', () => {
  const runA = path.join(env.home, 'run-a');
  const runB = path.join(env.home, 'run-b');

  it('gives the same architectures twice for the same seed and backend', async () => {
    const a = await runCli(['search', '--config', env.configFile, '--out', runA, '--json',
      '--quiet'], env.home);
    expect(a.code, a.out).toBe(0);
    const b = await runCli(['search', '--config', env.configFile, '--out', runB, '--json',
      '--quiet'], env.home);
    expect(b.code, b.out).toBe(0);

    const last = (text: string) => JSON.parse(text.trim().split('\n').pop() as string);
    const sa = last(a.out);
    const sb = last(b.out);
    expect(sa.backend).toBe('wasm');
    expect(sa.n).toBe(4);
    expect(sb.architectures.map((x: { text: string }) => x.text)).toEqual(
      sa.architectures.map((x: { text: string }) => x.text),
    );
    for (const key of ['backend', 'wallSeconds', 'tau', 'pearson', 'n', 'architectures']) {
      expect(sa).toHaveProperty(key);
    }
    for (const arch of sa.architectures) {
      for (const key of ['targetM', 'flopsM', 'params', 'accuracy']) expect(arch).toHaveProperty(key);
    }
  }, 300_000);

  it('generate reads the trained run folder and refuses an out-of-range budget', async () => {
    const ok = await runCli(['generate', '--run', runA, '--budgets', '0.9,1.2', '--json',
      '--no-score', '--quiet'], env.home);
    expect(ok.code, ok.out).toBe(0);
    const summary = JSON.parse(ok.out.trim().split('\n').pop() as string);
    expect(summary.architectures.map((a: { targetM: number }) => a.targetM)).toEqual([0.9, 1.2]);

    const bad = await runCli(['generate', '--run', runA, '--budgets', '0.9,5'], env.home);
    expect(bad.code).toBe(2);
    expect(bad.out).toMatch(/budget 5 MFLOPs \(number 2 of 2\) is outside preset 'fmnist'/);
    expect(readFileSync(path.join(runA, 'config.json'), 'utf8')).toContain('"preset": "fmnist"');
  }, 300_000);

  it('a diverging supernet fails the run, naming stage, epoch and step', async () => {
    const { code, out } = await runCli(['search', '--config', env.configFile, '--lr', '1e9',
      '--quiet'], env.home);
    expect(code).toBe(1);
    expect(out).toMatch(/supernet training diverged at epoch 1, step \d+/);
  }, 300_000);
});

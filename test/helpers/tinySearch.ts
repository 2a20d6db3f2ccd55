import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** The repo root, where `node --import tsx main/cli/sgnas.ts` runs. */
export const REPO = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');

/**
 * A real search small enough for a test: 128 training images in batches of
 * 32 (4 supernet steps per epoch), two short generator epochs, 4 budgets.
 */
export const TINY_SEARCH = {
  preset: 'fmnist',
  seed: 5,
  validationPerClass: 5,
  supernet: { epochs: 2, batchSize: 32, trainSubset: 128, lr: 0.05 },
  generator: { epochs: 2, stepsPerEpoch: 2, targetsPerStep: 4, validationBatch: 16 },
  sweepBudgets: 4,
  recalibrationBatches: 1,
};

/** A fresh home folder (registry + run folders) and the tiny config file in it. */
export function tinyHome(prefix: string): { home: string; configFile: string; db: string } {
  const home = mkdtempSync(path.join(os.tmpdir(), prefix));
  const configFile = path.join(home, 'tiny.json');
  writeFileSync(configFile, JSON.stringify(TINY_SEARCH));
  return { home, configFile, db: path.join(home, 'registry.db') };
}

/** Starts the CLI with the given arguments; output is collected on the child. */
export function startCli(args: string[], home: string): ChildProcess & { output: () => string } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'main/cli/sgnas.ts', ...args], {
    cwd: REPO,
    env: { ...process.env, SGNAS_HOME: home, SGNAS_DB: path.join(home, 'registry.db') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout?.on('data', (chunk) => (text += chunk));
  child.stderr?.on('data', (chunk) => (text += chunk));
  return Object.assign(child, { output: () => text });
}

/** Runs the CLI to its end: exit code and everything it printed. */
export async function runCli(args: string[], home: string): Promise<{ code: number; out: string }> {
  const child = startCli(args, home);
  const code = await new Promise<number>((resolve) => child.on('exit', (c) => resolve(c ?? -1)));
  return { code, out: child.output() };
}

import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { parseSearchConfig, type SearchConfig } from './config.js';

/**
 * The layout of a run folder: what a run writes and where a later stage or a
 * resumed process finds it.
 *
 *   config.json               the full configuration
 *   checkpoints/              supernet-epoch-NNNN/, generator-epoch-NNNN/
 *   results/summary.json      backend, timings, tau, Pearson, architectures
 *   results/architectures.csv one row per budget
 *   results/sweep.json        the sweep's statistics
 */
export const runPaths = (runDir: string) => ({
  config: path.join(runDir, 'config.json'),
  checkpoints: path.join(runDir, 'checkpoints'),
  results: path.join(runDir, 'results'),
  summary: path.join(runDir, 'results', 'summary.json'),
  architecturesCsv: path.join(runDir, 'results', 'architectures.csv'),
  sweep: path.join(runDir, 'results', 'sweep.json'),
});

/** Writes a file whole or not at all (temp file, then rename). */
export function writeFileAtomic(file: string, text: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const temp = `${file}.partial-${process.pid}`;
  writeFileSync(temp, text);
  renameSync(temp, file);
}

/** Saves a run's configuration into its folder. */
export function writeRunConfig(runDir: string, config: SearchConfig): void {
  writeFileAtomic(runPaths(runDir).config, `${JSON.stringify(config, null, 2)}\n`);
}

/**
 * Reads and validates a run folder's configuration.
 *
 * @throws Error naming the folder when it holds no config.json or a broken one.
 */
export function readRunConfig(runDir: string): SearchConfig {
  const file = runPaths(runDir).config;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new Error(
      `${runDir} is not a run folder: ${file} is missing. Pass the folder a search ` +
        'wrote (its --out), or start a new search',
    );
  }

  try {
    return parseSearchConfig(JSON.parse(text));
  } catch (err) {
    throw new Error(`${file} is not a valid run configuration: ${(err as Error).message}`);
  }
}

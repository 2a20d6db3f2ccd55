/**
 * The random-search baseline (method.md section 8): sample architectures
 * under the budget, score each on the supernet's validation split after BN
 * recalibration, keep the best.
 */
import { performance } from 'node:perf_hooks';

import { Rng } from '../rng.js';
import { yieldToEventLoop } from '../train/eventLoop.js';
import type { ArchitectureScorer } from './scorer.js';
import { sampleUnderBudget } from './budgetSampling.js';
import {
  bestOf,
  SearchCancelledError,
  type BaselineHooks,
  type BaselineResult,
  type ScoredArchitecture,
} from './baselineTypes.js';
import type { RandomSearchOptions } from './reports.js';

export type { RandomSearchOptions } from './reports.js';

export const PAPER_RANDOM_SEARCH: Readonly<RandomSearchOptions> = { samples: 1000, seed: 0 };

/** Draws a duplicate configuration may be redrawn before the search gives up on new ones. */
const DUPLICATE_TRIES = 50;

/**
 * Random search for one budget. The scorer's cache is reset first, so the
 * evaluations and seconds are this search's own.
 *
 * @returns the best architecture, every one scored, and the search time.
 * @throws RangeError for a samples count below 1; SearchCancelledError when
 *   the signal aborts.
 */
export async function randomSearch(
  scorer: ArchitectureScorer,
  budgetM: number,
  options: RandomSearchOptions,
  hooks: BaselineHooks = {},
): Promise<BaselineResult> {
  if (!Number.isInteger(options.samples) || options.samples < 1) {
    throw new RangeError(`random search needs samples >= 1, got ${options.samples}`);
  }
  const started = performance.now();
  const { preset, options: space } = scorer.supernet;
  const rng = new Rng(options.seed);
  scorer.reset();
  const scored: ScoredArchitecture[] = [];

  while (scored.length < options.samples) {
    if (hooks.signal?.aborted) throw new SearchCancelledError('random', budgetM, scored.length);

    // A small space can run out of new configurations: then the search ends early.
    let candidate = sampleUnderBudget(preset, space, budgetM, rng);
    for (let t = 0; t < DUPLICATE_TRIES && scorer.has(candidate.architecture); t++) {
      candidate = sampleUnderBudget(preset, space, budgetM, rng);
    }
    if (scorer.has(candidate.architecture)) break;

    const entry = { ...candidate, accuracy: scorer.score(candidate.architecture) };
    scored.push(entry);
    hooks.onEvaluation?.(scored.length, options.samples, entry);
    await yieldToEventLoop();
  }

  const best = bestOf(scored);
  const seconds = (performance.now() - started) / 1000;
  hooks.log?.(
    `[random] budget ${budgetM.toFixed(4)} MFLOPs: best ${(best.accuracy * 100).toFixed(2)}% ` +
      `at ${best.flopsM.toFixed(4)} MFLOPs after ${scored.length} evaluations, ` +
      `${seconds.toFixed(1)} s`,
  );
  return { method: 'random', budgetM, best, scored, evaluations: scored.length, seconds };
}

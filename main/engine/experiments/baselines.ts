/**
 * The baselines re-run per budget (method.md section 8): one random search or
 * one evolutionary search for every budget, each paying its own evaluations.
 */
import type { SearchHooks } from '../pipeline/search.js';
import { evolutionSearch } from './evolution.js';
import { randomSearch } from './randomSearch.js';
import type { BaselineHooks, BaselineResult } from './baselineTypes.js';
import type { BaselineSettings, EvolutionOptions, RandomSearchOptions } from './reports.js';
import type { ArchitectureScorer } from './scorer.js';

export type { BaselineSettings } from './reports.js';

export type BaselineMethod = 'random' | 'evolution';

/** CPU defaults of the fmnist preset: 100 evaluations per search for both methods. */
export const CPU_RANDOM_SEARCH: Readonly<Omit<RandomSearchOptions, 'seed'>> = { samples: 100 };

export const CPU_EVOLUTION: Readonly<Omit<EvolutionOptions, 'seed'>> = {
  population: 20,
  parents: 5,
  generations: 5,
  mutationShare: 0.5,
  mutationRate: 0.1,
};

/**
 * `count` budgets spread evenly over the constraint interval, ends included;
 * one budget is the middle of the interval.
 *
 * @throws RangeError when count is not a positive integer.
 */
export function budgetsFor(constraint: { lowM: number; highM: number }, count: number): number[] {
  if (!Number.isInteger(count) || count < 1) {
    throw new RangeError(`the number of budgets must be a positive integer, got ${count}`);
  }
  if (count === 1) return [(constraint.lowM + constraint.highM) / 2];
  const step = (constraint.highM - constraint.lowM) / (count - 1);
  return Array.from({ length: count }, (_, i) => constraint.lowM + i * step);
}

/** Progress of a run of several searches: which search, and its own progress. */
export interface BaselineRunHooks extends Pick<SearchHooks, 'log' | 'signal'> {
  onEvaluation?: (
    method: BaselineMethod,
    budgetIndex: number,
    ...args: Parameters<NonNullable<BaselineHooks['onEvaluation']>>
  ) => void;
  /** After each budget's search. */
  onSearchEnd?: (result: BaselineResult, budgetIndex: number) => void;
}

/**
 * One search of `method` per budget, in order.
 *
 * @returns one result per budget, in the order of budgetsM.
 */
export async function runBaselines(
  scorer: ArchitectureScorer,
  method: BaselineMethod,
  budgetsM: readonly number[],
  settings: BaselineSettings,
  hooks: BaselineRunHooks = {},
): Promise<BaselineResult[]> {
  const results: BaselineResult[] = [];
  for (const [i, budgetM] of budgetsM.entries()) {
    const searchHooks: BaselineHooks = {
      log: hooks.log,
      signal: hooks.signal,
      onEvaluation: (index, planned, scored) =>
        hooks.onEvaluation?.(method, i, index, planned, scored),
    };
    const seed = settings.seed + i;
    const result = method === 'random'
      ? await randomSearch(scorer, budgetM, { ...settings.random, seed }, searchHooks)
      : await evolutionSearch(scorer, budgetM, { ...settings.evolution, seed }, searchHooks);
    results.push(result);
    hooks.onSearchEnd?.(result, i);
  }
  return results;
}

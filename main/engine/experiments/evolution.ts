/**
 * The evolution baseline of single-path one-shot NAS (method.md section 8):
 * a random population under the budget, then each generation breeds children
 * from the best architectures found so far by mutation and crossover;
 * children that break the budget (or were scored before) are dropped.
 */
import { performance } from 'node:perf_hooks';

import { Rng } from '../rng.js';
import { flopsM } from '../space/costModel.js';
import type { Architecture } from '../space/types.js';
import { yieldToEventLoop } from '../train/eventLoop.js';
import { crossover, mutate, sampleUnderBudget } from './budgetSampling.js';
import {
  bestOf,
  SearchCancelledError,
  type BaselineHooks,
  type BaselineResult,
  type ScoredArchitecture,
} from './baselineTypes.js';
import { architectureKey, type ArchitectureScorer } from './scorer.js';
import type { EvolutionOptions } from './reports.js';

export type { EvolutionOptions } from './reports.js';

export const PAPER_EVOLUTION: Readonly<EvolutionOptions> = {
  population: 50,
  parents: 10,
  generations: 20,
  mutationShare: 0.5,
  mutationRate: 0.1,
  seed: 0,
};

/** Breeding attempts per wanted child before a generation is filled with random ones. */
const TRIES_PER_CHILD = 10;

function checkOptions(o: EvolutionOptions): void {
  const ints: [string, number][] = [
    ['population', o.population],
    ['parents', o.parents],
    ['generations', o.generations],
  ];
  for (const [name, value] of ints) {
    if (!Number.isInteger(value) || value < 1) {
      throw new RangeError(`evolution: ${name} must be a positive integer, got ${value}`);
    }
  }
  if (o.parents > o.population) {
    throw new RangeError(
      `evolution: parents (${o.parents}) cannot exceed the population (${o.population})`,
    );
  }
  const shareOk = o.mutationShare >= 0 && o.mutationShare <= 1;
  if (!shareOk || !(o.mutationRate > 0 && o.mutationRate <= 1)) {
    throw new RangeError(
      `evolution: mutationShare must lie in [0, 1] and mutationRate in (0, 1], got ` +
        `${o.mutationShare} and ${o.mutationRate}`,
    );
  }
}

/** The state one search's breeding works on. */
interface Breeding {
  scorer: ArchitectureScorer;
  budgetM: number;
  rng: Rng;
  /** Keys of children already taken this generation (not yet scored). */
  taken: Set<string>;
}

/** A child is kept when it fits the budget and is new; returns its FLOPs, or null. */
function admit(b: Breeding, child: Architecture): number | null {
  const cost = flopsM(child, b.scorer.supernet.preset);
  const key = architectureKey(child);
  if (cost > b.budgetM || b.scorer.has(child) || b.taken.has(key)) return null;
  b.taken.add(key);
  return cost;
}

/** Up to `count` children made by `make` from the parents; over-budget ones are dropped. */
function breed(
  b: Breeding,
  count: number,
  make: () => Architecture,
): { architecture: Architecture; flopsM: number }[] {
  const children: { architecture: Architecture; flopsM: number }[] = [];
  for (let t = 0; t < count * TRIES_PER_CHILD && children.length < count; t++) {
    const child = make();
    const cost = admit(b, child);
    if (cost !== null) children.push({ architecture: child, flopsM: cost });
  }
  return children;
}

/** The next generation's candidates: mutants, crossovers, then random fill-ins. */
function nextGeneration(
  b: Breeding,
  parents: readonly ScoredArchitecture[],
  o: EvolutionOptions,
): { architecture: Architecture; flopsM: number }[] {
  const { preset, options: space } = b.scorer.supernet;
  const pick = () => parents[b.rng.int(parents.length)].architecture;
  const mutants = Math.round(o.population * o.mutationShare);

  const children = breed(b, mutants, () => mutate(pick(), preset, space, o.mutationRate, b.rng));
  children.push(...breed(b, o.population - mutants, () => crossover(pick(), pick(), b.rng)));
  return [...children, ...randomMembers(b, o.population - children.length)];
}

/** Up to `count` new random architectures under the budget. */
function randomMembers(
  b: Breeding,
  count: number,
): { architecture: Architecture; flopsM: number }[] {
  const { preset, options: space } = b.scorer.supernet;
  return breed(b, count, () => sampleUnderBudget(preset, space, b.budgetM, b.rng).architecture);
}

/**
 * Evolutionary search for one budget. The scorer's cache is reset first, so
 * the evaluations and seconds are this search's own.
 *
 * @returns the best architecture (never over the budget: every candidate is
 *   checked before it is scored), every one scored, the best accuracy after
 *   each generation, and the search time.
 * @throws RangeError for invalid settings; SearchCancelledError on abort.
 */
export async function evolutionSearch(
  scorer: ArchitectureScorer,
  budgetM: number,
  options: EvolutionOptions,
  hooks: BaselineHooks = {},
): Promise<BaselineResult> {
  checkOptions(options);
  const started = performance.now();
  const breeding: Breeding = { scorer, budgetM, rng: new Rng(options.seed), taken: new Set() };
  const planned = options.population * options.generations;
  scorer.reset();
  const scored: ScoredArchitecture[] = [];
  const bestPerGeneration: number[] = [];
  let parents: ScoredArchitecture[] = [];

  for (let g = 0; g < options.generations; g++) {
    breeding.taken.clear();
    const candidates = g === 0
      ? randomMembers(breeding, options.population)
      : nextGeneration(breeding, parents, options);
    // A small space can run out of new configurations under the budget.
    if (candidates.length === 0) break;

    for (const candidate of candidates) {
      if (hooks.signal?.aborted) {
        throw new SearchCancelledError('evolution', budgetM, scored.length);
      }
      const entry = { ...candidate, accuracy: scorer.score(candidate.architecture) };
      scored.push(entry);
      hooks.onEvaluation?.(scored.length, planned, entry);
      await yieldToEventLoop();
    }

    // Parents: the best of everything scored so far (a stable sort keeps ties in order).
    parents = [...scored].sort((a, b) => b.accuracy - a.accuracy).slice(0, options.parents);
    bestPerGeneration.push(parents[0].accuracy);
  }

  const best = bestOf(scored);
  const seconds = (performance.now() - started) / 1000;
  hooks.log?.(
    `[evolution] budget ${budgetM.toFixed(4)} MFLOPs: best ${(best.accuracy * 100).toFixed(2)}% ` +
      `at ${best.flopsM.toFixed(4)} MFLOPs after ${scored.length} evaluations in ` +
      `${bestPerGeneration.length} generations, ${seconds.toFixed(1)} s`,
  );
  return {
    method: 'evolution',
    budgetM,
    best,
    scored,
    evaluations: scored.length,
    seconds,
    bestPerGeneration,
  };
}

/**
 * The prior study of the paper's Fig 7b: generators trained from four priors
 * of different quality, all on the same frozen supernet, compared at the same
 * budgets. The paper finds they reach the same architectures: the prior
 * steadies training, it does not set the result.
 *
 * The priors are picked by quality, not by hand: C random priors are scored on
 * the supernet (the same scorer as every other experiment), sorted by
 * accuracy, and the worst, the two at the thirds, and the best are kept.
 */
import path from 'node:path';
import { performance } from 'node:perf_hooks';

import { ArchitectureGenerator } from '../nn/generator.js';
import type { SearchConfig } from '../pipeline/config.js';
import { checkBudgets, type SweepEvaluation } from '../pipeline/generate.js';
import { runGeneratorStage, runSweepStage, type SearchContext } from '../pipeline/search.js';
import { formatArchitecture } from '../space/architecture.js';
import { flopsM, flopsRangeM } from '../space/costModel.js';
import { randomPrior } from '../space/priors.js';
import type { Architecture } from '../space/types.js';
import { budgetsFor } from './baselines.js';
import { SearchCancelledError } from './baselineTypes.js';
import type { ExperimentHooks } from './hooks.js';
import type { ArchitectureScorer } from './scorer.js';
import type {
  PriorCandidate,
  PriorRank,
  PriorReport,
  PriorStudyReport,
} from './reports.js';

export type {
  PriorBudgetPick,
  PriorCandidate,
  PriorRank,
  PriorReport,
  PriorStudyReport,
} from './reports.js';

/** The four quality ranks, from the worst prior to the best. */
export const PRIOR_RANKS = [
  'worst',
  'lower-middle',
  'upper-middle',
  'best',
] as const satisfies readonly PriorRank[];

/**
 * CPU defaults for the fmnist preset. Measured on 2 shared cores (wasm): a
 * generator step of the fmnist defaults (8 targets, 32 validation images)
 * takes about 0.4 s and a score 0.33 s, so 12 candidates, four generators of
 * 200 steps and 4 x 10 budgets take about 6 minutes. The 50 short epochs keep
 * the paper's temperature schedule (5.0 x 0.95 per epoch), as
 * DEFAULT_GENERATOR_TRAINING does.
 */
export const CPU_PRIOR_STUDY = {
  candidates: 12,
  budgets: 10,
  generator: { epochs: 50, stepsPerEpoch: 4 },
} as const;

export interface PriorStudyOptions {
  /** C: random priors scored before four are picked (at least 4). */
  candidates: number;
  /** Budgets spread over the constraint interval, the same for every prior. */
  budgets: number;
  /** Candidate i is randomPrior(seed + i). */
  seed: number;
  /** Folder of the four generators' sub-folders (reuse it to resume). */
  dir: string;
  /** Generator schedule, laid over the run's own. */
  generator?: Partial<Pick<SearchConfig['generator'], 'epochs' | 'stepsPerEpoch'>>;
}

/**
 * Indices of the four picks among `count` sorted candidates: first, the two
 * at the thirds, last.
 *
 * @throws RangeError for fewer than 4 candidates (the picks would repeat).
 */
export function priorPickIndices(count: number): number[] {
  if (!Number.isInteger(count) || count < PRIOR_RANKS.length) {
    throw new RangeError(
      `the prior study picks 4 priors from the candidates, so it needs at least 4, got ${count}`,
    );
  }
  return [0, Math.round((count - 1) / 3), Math.round((2 * (count - 1)) / 3), count - 1];
}

/** Scores C random priors and keeps the worst, two middle and best. */
async function pickPriors(
  ctx: SearchContext,
  scorer: ArchitectureScorer,
  options: PriorStudyOptions,
  hooks: ExperimentHooks,
): Promise<{ candidates: PriorCandidate[]; picked: { rank: PriorRank; prior: Architecture;
  candidate: PriorCandidate }[] }> {
  const indices = priorPickIndices(options.candidates);
  const drawn: { prior: Architecture; candidate: PriorCandidate }[] = [];
  for (let i = 0; i < options.candidates; i++) {
    if (hooks.signal?.aborted) throw new SearchCancelledError('prior study', 0, i);
    const seed = options.seed + i;
    const prior = randomPrior(ctx.preset, ctx.options, seed);
    const accuracy = scorer.score(prior);
    drawn.push({ prior, candidate: { seed, architecture: formatArchitecture(prior),
      flopsM: flopsM(prior, ctx.preset), accuracy } });
    hooks.onMetrics?.([{ stage: 'candidates', epoch: 0, step: i + 1, name: 'accuracy',
      value: accuracy }]);
    hooks.onProgress?.((0.1 * (i + 1)) / options.candidates, 'candidates');
  }

  drawn.sort((a, b) => a.candidate.accuracy - b.candidate.accuracy ||
    a.candidate.seed - b.candidate.seed);
  const picked = indices.map((index, r) => ({ rank: PRIOR_RANKS[r], ...drawn[index] }));
  hooks.log?.(`[prior-study] ${options.candidates} candidate priors scored; picked ` +
    picked.map((p) => `${p.rank} ${(p.candidate.accuracy * 100).toFixed(1)}% ` +
      `(seed ${p.candidate.seed})`).join(', '));
  return { candidates: drawn.map((d) => d.candidate), picked };
}

/** Trains one generator from `prior` in its own folder and generates for every budget. */
async function studyPrior(
  ctx: SearchContext,
  scorer: ArchitectureScorer,
  pick: { rank: PriorRank; prior: Architecture; candidate: PriorCandidate },
  index: number,
  budgetsM: number[],
  options: PriorStudyOptions,
  hooks: ExperimentHooks,
): Promise<PriorReport> {
  const runDir = path.join(options.dir, `prior-${pick.rank}`);
  // The same initial weights for every prior (openSearch's seed), so only the prior differs.
  const generator = new ArchitectureGenerator(ctx.preset.layers.length, ctx.config.seed + 7,
    ctx.options);
  const config = { ...ctx.config, generator: { ...ctx.config.generator, ...options.generator } };
  const span = 0.9 / PRIOR_RANKS.length;
  const sub: SearchContext = {
    ...ctx, runDir, generator, config, startedAt: performance.now(), startFraction: undefined,
    hooks: {
      log: hooks.log,
      signal: hooks.signal,
      // The generator stage spans 0.6..0.92 of a search.
      onProgress: (p) => hooks.onProgress?.(0.1 + span * (index + Math.min(
        Math.max((p.fraction - 0.6) / 0.32, 0), 1)), `prior-${pick.rank}`),
    },
  };

  try {
    const started = performance.now();
    await runGeneratorStage(sub, pick.prior);
    const generatorSeconds = (performance.now() - started) / 1000;

    const { results, sweep } = await runSweepStage(sub, pick.prior, budgetsM, false);
    const budgets = results.map((r, i) => {
      const accuracy = scorer.score(r.architecture);
      hooks.onMetrics?.([{ stage: `prior-${pick.rank}`, epoch: 0, step: i + 1,
        name: 'accuracy', value: accuracy }]);
      return { targetM: r.targetM, flopsM: r.flopsM, accuracy,
        architecture: formatArchitecture(r.architecture) };
    });
    const meanAccuracy = budgets.reduce((s, b) => s + b.accuracy, 0) / budgets.length;
    hooks.log?.(`[prior-study] ${pick.rank} prior (${(pick.candidate.accuracy * 100).toFixed(1)}` +
      `%): generated mean accuracy ${(meanAccuracy * 100).toFixed(2)}%, tau ` +
      `${sweep.kendallTau.value?.toFixed(3) ?? 'n/a'}, generator ` +
      `${generatorSeconds.toFixed(1)} s`);
    return { rank: pick.rank, prior: pick.candidate, runDir, generatorSeconds, budgets,
      meanAccuracy, ...sweepFigures(sweep) };
  } finally {
    generator.dispose();
  }
}

function sweepFigures(sweep: SweepEvaluation) {
  return {
    kendallTau: sweep.kendallTau.value ?? null,
    pearson: sweep.pearson.value ?? null,
    meanAbsErrorM: sweep.meanAbsErrorM,
    overBudget: sweep.overBudget,
  };
}

/**
 * Runs the study on an opened run's supernet (its generator is not used:
 * four fresh ones are trained, each resuming from its sub-folder's
 * checkpoints when present).
 *
 * @param ctx an opened run with its supernet loaded.
 * @throws RangeError for fewer than 4 candidates or a budget outside the
 *   space; SearchCancelledError or the trainer's cancellation on abort.
 */
export async function priorStudy(
  ctx: SearchContext,
  scorer: ArchitectureScorer,
  options: PriorStudyOptions,
  hooks: ExperimentHooks = {},
): Promise<PriorStudyReport> {
  const budgetsM = budgetsFor(ctx.constraint, options.budgets);
  checkBudgets(budgetsM, ctx.preset, ctx.options);
  const { candidates, picked } = await pickPriors(ctx, scorer, options, hooks);

  const priors: PriorReport[] = [];
  for (const [index, pick] of picked.entries()) {
    priors.push(await studyPrior(ctx, scorer, pick, index, budgetsM, options, hooks));
  }
  hooks.onProgress?.(1, 'done');

  return {
    candidates,
    priors,
    budgetsM,
    flopsRangeM: flopsRangeM(ctx.preset, ctx.options),
    generator: { ...ctx.config.generator, ...options.generator },
    preset: ctx.preset.name,
    classes: ctx.data.classes,
  };
}

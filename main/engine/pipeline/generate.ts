/**
 * Generating architectures for N budgets with a trained generator, in one
 * batched forward pass (the paper's point: search cost does not grow with N),
 * and judging a sweep of budgets (method.md section 8).
 */
import * as tf from '@tensorflow/tfjs';

import type { ImageSet } from '../data/imageSet.js';
import { ALPHA_WIDTH, normalizeTargets, type ArchitectureGenerator } from '../nn/generator.js';
import type { Supernet } from '../nn/supernet.js';
import { flopsM, flopsRangeM, paramCount } from '../space/costModel.js';
import { decodeAlpha } from '../space/decode.js';
import { PriorPool, priorToTensorData } from '../space/priors.js';
import type { Architecture, Preset, SpaceOptions } from '../space/types.js';
import { kendallTauB, pearson, type Correlation } from '../stats.js';
import { scoreArchitecture, type ScoreOptions } from '../train/evaluate.js';

/** One generated architecture and what it costs. */
export interface GeneratedArchitecture {
  /** The budget asked for, in MFLOPs. */
  targetM: number;
  architecture: Architecture;
  /** Exact FLOPs of the decoded architecture (lookup table, not alpha). */
  flopsM: number;
  /** Parameters of its stand-alone network (method.md 8b). */
  params: number;
  /** Supernet-estimated validation accuracy in [0, 1], when asked for. */
  accuracy?: number;
}

/** The architectures for every budget, and the time of the one forward pass. */
export interface GenerationResult {
  results: GeneratedArchitecture[];
  /** Wall time of the generator's batched forward pass (alpha read back included). */
  forwardMs: number;
}

/** Extras of generateArchitectures. */
export interface GenerateExtras {
  /** For accuracy estimates, and for the class count of `params`. */
  supernet?: Supernet;
  /** Validation split the accuracy is measured on. */
  validation?: ImageSet;
  /** Score each architecture on the supernet (needs supernet and validation). */
  scoreAccuracy?: boolean;
  /** BN recalibration and batch settings of the scoring (recalibration on). */
  score?: ScoreOptions;
  /** Output classes for `params` when no supernet is given (default 10). */
  classes?: number;
  /**
   * The interval the generator was trained on, to normalise budgets with
   * (default: the preset's constraint).
   */
  constraint?: { lowM: number; highM: number };
}

/**
 * Refuses budgets no architecture of the space can meet.
 *
 * @throws RangeError naming the first budget outside [minM, maxM] (with its
 *   position in the list) and the range.
 */
export function checkBudgets(
  budgetsM: readonly number[],
  preset: Preset,
  options: SpaceOptions,
): void {
  if (budgetsM.length === 0) {
    throw new RangeError('no budgets given: pass at least one FLOPs budget in MFLOPs');
  }

  const { minM, maxM } = flopsRangeM(preset, options);
  budgetsM.forEach((budget, i) => {
    if (!(Number.isFinite(budget) && budget >= minM && budget <= maxM)) {
      throw new RangeError(
        `budget ${budget} MFLOPs (number ${i + 1} of ${budgetsM.length}) is outside ` +
          `preset '${preset.name}' FLOPs range ${round(minM)}..${round(maxM)} MFLOPs ` +
          `(minExpansion ${options.minExpansion}): choose budgets inside that range`,
      );
    }
  });
}

function round(value: number): number {
  return Math.round(value * 1e4) / 1e4;
}

/**
 * `count` budgets evenly spaced over an interval, ends included.
 *
 * @example sweepBudgets({ lowM: 1, highM: 2 }, 3) // [1, 1.5, 2]
 */
export function sweepBudgets(interval: { lowM: number; highM: number }, count: number): number[] {
  if (!Number.isInteger(count) || count < 2) {
    throw new RangeError(`a sweep needs an integer count of at least 2 budgets, got ${count}`);
  }
  const step = (interval.highM - interval.lowM) / (count - 1);
  return Array.from({ length: count }, (_, i) => interval.lowM + i * step);
}

/** One-hot priors, one row of [L * 24] per budget. */
function priorRows(prior: Architecture | PriorPool, budgetsM: readonly number[]): Float32Array {
  const pick = (budget: number) =>
    prior instanceof PriorPool ? prior.nearest(budget).prior : prior;
  const rows = budgetsM.map((b) => priorToTensorData(pick(b)));
  const out = new Float32Array(rows.length * rows[0].length);
  rows.forEach((row, i) => out.set(row, i * row.length));
  return out;
}

/**
 * Generates one architecture per budget.
 *
 * ```ts
 * const { results, forwardMs } = await generateArchitectures(generator, preset,
 *   options, [1.1, 1.3, 1.5], pool, { supernet, validation, scoreAccuracy: true,
 *   score: { train } });
 * ```
 *
 * @param options the space options the generator was trained with.
 * @param budgetsM FLOPs budgets in MFLOPs, each inside flopsRangeM(preset).
 * @param prior one prior for every budget, or a pool (nearest prior per budget).
 * @returns per budget (in the given order) the decoded architecture, its exact
 *   FLOPs and parameters, and optionally its supernet validation accuracy;
 *   plus the time of the single forward pass.
 * @throws RangeError for a budget outside the FLOPs range (naming it and the
 *   range), a generator built for another layer count, or scoring asked for
 *   without a supernet and validation split.
 */
export async function generateArchitectures(
  generator: ArchitectureGenerator,
  preset: Preset,
  options: SpaceOptions,
  budgetsM: readonly number[],
  prior: Architecture | PriorPool,
  extras: GenerateExtras = {},
): Promise<GenerationResult> {
  checkBudgets(budgetsM, preset, options);
  const L = preset.layers.length;
  if (generator.numLayers !== L) {
    throw new RangeError(
      `the generator has ${generator.numLayers} layers, preset '${preset.name}' has ${L}: ` +
        'load the generator trained for this preset',
    );
  }
  if (extras.scoreAccuracy && (!extras.supernet || !extras.validation)) {
    throw new RangeError(
      'accuracy estimates need the supernet and the validation split: pass both, or set ' +
        'scoreAccuracy to false',
    );
  }

  const constraint = extras.constraint ?? preset.constraint;
  const priors = tf.tensor2d(priorRows(prior, budgetsM), [budgetsM.length, L * ALPHA_WIDTH]);
  const targets = tf.tensor1d(normalizeTargets(budgetsM, constraint));

  const started = performance.now();
  const alpha = generator.forward(priors, targets);
  const data = (await alpha.data()) as Float32Array;
  const forwardMs = performance.now() - started;
  tf.dispose([priors, targets, alpha]);

  const classes = extras.supernet?.classes ?? extras.classes ?? 10;
  const perBudget = L * ALPHA_WIDTH;
  // Neighbouring budgets often decode to the same architecture; score it once.
  const scores = new Map<string, number>();
  const results = budgetsM.map((targetM, i) => {
    const architecture = decodeAlpha(data.subarray(i * perBudget, (i + 1) * perBudget), options);
    const result: GeneratedArchitecture = {
      targetM,
      architecture,
      flopsM: flopsM(architecture, preset),
      params: paramCount(architecture, preset, classes),
    };
    if (extras.scoreAccuracy) {
      const key = JSON.stringify(architecture.layers);
      const known = scores.get(key);
      result.accuracy =
        known ??
        scoreArchitecture(extras.supernet as Supernet, architecture,
          extras.validation as ImageSet, { recalibrate: true, ...extras.score });
      scores.set(key, result.accuracy);
    }
    return result;
  });

  return { results, forwardMs };
}

/** How well generated FLOPs follow their targets over a sweep. */
export interface SweepEvaluation {
  /** Kendall's tau-b between target and generated FLOPs (paper: 1.0). */
  kendallTau: Correlation;
  /** Pearson's r between target and generated FLOPs (paper: 0.99). */
  pearson: Correlation;
  /** Mean |generated - target| in MFLOPs. */
  meanAbsErrorM: number;
  /** Budgets whose architecture exceeds the budget. */
  overBudget: number;
}

/**
 * Correlations between the targets and the FLOPs of what was generated.
 *
 * @returns value undefined (not NaN) when a series is constant, e.g. when the
 *   generator gave every budget the same architecture.
 */
export function evaluateSweep(results: readonly GeneratedArchitecture[]): SweepEvaluation {
  const targets = results.map((r) => r.targetM);
  const flops = results.map((r) => r.flopsM);
  const errors = results.map((r) => Math.abs(r.flopsM - r.targetM));

  return {
    kendallTau: kendallTauB(targets, flops),
    pearson: pearson(targets, flops),
    meanAbsErrorM: errors.reduce((a, b) => a + b, 0) / Math.max(errors.length, 1),
    overBudget: results.filter((r) => r.flopsM > r.targetM).length,
  };
}

/**
 * Scoring architectures on a trained supernet the same way for every search
 * method (random search, evolution, the generator's picks): the same
 * validation images, the same BN recalibration images, results cached by
 * configuration so a search never pays twice for one architecture.
 */
import { performance } from 'node:perf_hooks';

import { subsetBalanced } from '../data/split.js';
import type { ImageSet } from '../data/imageSet.js';
import type { Supernet } from '../nn/supernet.js';
import { formatArchitecture } from '../space/architecture.js';
import { canonicalLayer } from '../space/configurations.js';
import type { Architecture } from '../space/types.js';
import { scoreArchitecture } from '../train/evaluate.js';
import type { ScoringOptions } from './reports.js';

export type { ScoringOptions } from './reports.js';

/**
 * CPU defaults for the fmnist preset. Measured on the shared 2-core machine
 * (wasm, other jobs running): 250 validation images + one recalibration batch
 * of 128 took 0.56 s a score, 500 + 128 took 1.0 s, 1000 + 4 x 128 took 1.6 s.
 */
export const DEFAULT_SCORING: Readonly<ScoringOptions> = {
  validationImages: 200,
  recalibrationBatches: 1,
  recalibrationBatchSize: 64,
  seed: 0,
};

/**
 * The cache key of an architecture: its canonical form (kernel order among
 * kept sub-blocks does not change the function a unified block computes).
 */
export function architectureKey(arch: Architecture): string {
  return formatArchitecture({ layers: arch.layers.map((ops) => canonicalLayer(ops)) });
}

/**
 * Scores architectures on a frozen supernet with fixed images.
 *
 * ```ts
 * const scorer = new ArchitectureScorer(supernet, data.validation, data.train,
 *   DEFAULT_SCORING);
 * const accuracy = scorer.score(arch);
 * ```
 */
export class ArchitectureScorer {
  readonly validation: ImageSet;
  readonly options: Readonly<ScoringOptions>;
  private readonly cache = new Map<string, number>();
  private evaluations = 0;
  private secondsSpent = 0;

  /**
   * @param validation the held-out split (never the test set).
   * @param train images for BN recalibration.
   * @throws RangeError when validationImages is not a positive integer.
   */
  constructor(
    readonly supernet: Supernet,
    validation: ImageSet,
    readonly train: ImageSet,
    options: Partial<ScoringOptions> = {},
  ) {
    this.options = { ...DEFAULT_SCORING, ...options };
    const wanted = this.options.validationImages;
    if (wanted !== undefined && (!Number.isInteger(wanted) || wanted < 1)) {
      throw new RangeError(`validationImages must be a positive integer, got ${wanted}`);
    }
    this.validation =
      wanted !== undefined && wanted < validation.count
        ? subsetBalanced(validation, wanted, this.options.seed)
        : validation;
  }

  /** Architectures actually scored (cache hits excluded). */
  get evaluationCount(): number {
    return this.evaluations;
  }

  /** Seconds spent scoring, cache hits excluded. */
  get seconds(): number {
    return this.secondsSpent;
  }

  /** Forgets cached scores, so a new search pays for its own evaluations. */
  reset(): void {
    this.cache.clear();
    this.evaluations = 0;
    this.secondsSpent = 0;
  }

  /** True when the architecture's configuration was scored since the last reset. */
  has(arch: Architecture): boolean {
    return this.cache.has(architectureKey(arch));
  }

  /**
   * Validation top-1 accuracy in [0, 1] after BN recalibration; the
   * supernet's running statistics are unchanged afterwards.
   */
  score(arch: Architecture): number {
    const key = architectureKey(arch);
    const cached = this.cache.get(key);
    if (cached !== undefined) return cached;

    const started = performance.now();
    const { recalibrationBatches, recalibrationBatchSize, seed } = this.options;
    const accuracy = scoreArchitecture(this.supernet, arch, this.validation, {
      recalibrate: recalibrationBatches > 0,
      train: this.train,
      recalibration: { batches: recalibrationBatches, batchSize: recalibrationBatchSize, seed },
    });
    this.secondsSpent += (performance.now() - started) / 1000;
    this.evaluations += 1;
    this.cache.set(key, accuracy);
    return accuracy;
  }
}

/**
 * Scoring a sub-network on the supernet's weights (method.md section 5):
 * recalibrate the BN statistics of the BNs the architecture uses on a few
 * training batches, then measure top-1 accuracy on the validation split.
 *
 * The running statistics of a supernet BN are shared by every architecture
 * that uses it, and during training they average over many different inputs.
 * Recalibration replaces them with statistics of this sub-network's own
 * activations; scoreArchitecture puts the old values back afterwards, so
 * scoring one architecture never changes the score of another.
 */
import * as tf from '@tensorflow/tfjs';

import { orderedBatches, toBatch } from '../data/batches.js';
import type { ImageSet } from '../data/imageSet.js';
import type { Supernet } from '../nn/supernet.js';
import type { BatchNormParams, BatchNormStat } from '../nn/unifiedBlock.js';
import { Rng } from '../rng.js';
import type { Architecture } from '../space/types.js';

/** Which training images recalibrate BN. */
export interface RecalibrationOptions {
  /** Number of batches (paper practice: a few). */
  batches: number;
  batchSize: number;
  /**
   * Seed of the image choice. The same seed gives every architecture the
   * same images, which keeps scores comparable.
   */
  seed: number;
}

export const DEFAULT_RECALIBRATION: Readonly<RecalibrationOptions> = {
  batches: 4,
  batchSize: 128,
  seed: 0,
};

/**
 * Re-estimates the running statistics of every BN the architecture uses, as
 * the cumulative average over `batches` training batches (PyTorch's
 * momentum=None): the old values are overwritten, not blended.
 *
 * @param train training images to draw batches from.
 * @throws RangeError when batches or batchSize is not a positive integer.
 */
export function recalibrateBatchNorm(
  supernet: Supernet,
  arch: Architecture,
  train: ImageSet,
  options: Partial<RecalibrationOptions> = {},
): void {
  const { batches, batchSize, seed } = { ...DEFAULT_RECALIBRATION, ...options };
  if (!Number.isInteger(batches) || batches < 1 || !Number.isInteger(batchSize) || batchSize < 1) {
    throw new RangeError(
      `BN recalibration needs positive integer batches and batchSize, got ${batches} and ` +
        `${batchSize}`,
    );
  }

  // Only full batches: BN statistics of a nearly empty batch would be noise.
  const size = Math.min(batchSize, train.count);
  const count = Math.min(batches, Math.floor(train.count / size));
  const order = new Rng(seed).shuffle(Array.from({ length: train.count }, (_, i) => i));
  for (let b = 0; b < count; b++) {
    const indices = order.slice(b * size, (b + 1) * size);

    const { x, y } = toBatch(train, indices);
    const stats: BatchNormStat[] = [];
    try {
      tf.tidy(() => {
        supernet.forwardSinglePath(x, arch, true, stats);
      });
      supernet.updateRunningStatistics(stats, 1 / (b + 1));
    } finally {
      x.dispose();
      y.dispose();
      for (const s of stats) {
        s.mean.dispose();
        s.variance.dispose();
      }
    }
  }
}

/**
 * Top-1 accuracy of an architecture on a labelled set, BN on running
 * statistics.
 *
 * @returns the fraction of images whose argmax logit is the label.
 */
export function accuracyOn(
  supernet: Supernet,
  arch: Architecture,
  set: ImageSet,
  batchSize = 256,
): number {
  let correct = 0;
  for (const indices of orderedBatches(set.count, batchSize)) {
    const { x, y } = toBatch(set, indices);
    try {
      const hits = tf.tidy(() => {
        const logits = supernet.forwardSinglePath(x, arch, false);
        return tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), y), 'int32'));
      });
      correct += hits.dataSync()[0];
      hits.dispose();
    } finally {
      x.dispose();
      y.dispose();
    }
  }
  return correct / set.count;
}

/** Copies of running statistics, to put back after scoring. */
interface StatsSnapshot {
  bn: BatchNormParams;
  mean: tf.Tensor;
  variance: tf.Tensor;
}

function snapshotStatistics(bns: BatchNormParams[]): StatsSnapshot[] {
  return bns.map((bn) => ({
    bn,
    mean: tf.clone(bn.runningMean),
    variance: tf.clone(bn.runningVariance),
  }));
}

function restoreStatistics(snapshot: StatsSnapshot[]): void {
  for (const s of snapshot) {
    s.bn.runningMean.assign(s.mean);
    s.bn.runningVariance.assign(s.variance);
    s.mean.dispose();
    s.variance.dispose();
  }
}

/** How scoreArchitecture works. */
export interface ScoreOptions {
  /** Recalibrate BN first (on by default, as in method.md section 5). */
  recalibrate?: boolean;
  /** Training images for recalibration; required when recalibrate is on. */
  train?: ImageSet;
  recalibration?: Partial<RecalibrationOptions>;
  /** Images per scoring batch. */
  batchSize?: number;
}

/**
 * Validation top-1 accuracy of a sub-network on the supernet's weights.
 *
 * ```ts
 * const acc = scoreArchitecture(net, arch, split.validation,
 *   { recalibrate: true, train: split.train });
 * ```
 *
 * @param validation the held-out validation split (never the test set).
 * @returns accuracy in [0, 1]. Running statistics are unchanged afterwards.
 * @throws RangeError when recalibration is on but no training set is given.
 */
export function scoreArchitecture(
  supernet: Supernet,
  arch: Architecture,
  validation: ImageSet,
  options: ScoreOptions = {},
): number {
  const recalibrate = options.recalibrate ?? true;
  if (!recalibrate) return accuracyOn(supernet, arch, validation, options.batchSize);

  if (!options.train) {
    throw new RangeError(
      'scoreArchitecture: BN recalibration needs training images (options.train); pass ' +
        'them or set recalibrate: false',
    );
  }
  const snapshot = snapshotStatistics(supernet.batchNormsOf(arch));
  try {
    recalibrateBatchNorm(supernet, arch, options.train, options.recalibration);
    return accuracyOn(supernet, arch, validation, options.batchSize);
  } finally {
    restoreStatistics(snapshot);
  }
}

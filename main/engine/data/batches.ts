/**
 * Turning an ImageSet into training batches: a seeded epoch order whose position
 * can be checkpointed, and the conversion of a batch of images to normalised
 * tensors, which runs on every training step.
 */
import * as tf from '@tensorflow/tfjs';

import { Rng } from '../rng.js';
import { type ImageSet, imageBytes } from './imageSet.js';

/** A random permutation of 0..count-1 drawn from `rng` (Fisher-Yates). */
export function shuffledOrder(count: number, rng: Rng): Int32Array {
  const order = new Int32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  for (let i = count - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const swap = order[i];
    order[i] = order[j];
    order[j] = swap;
  }
  return order;
}

/**
 * Consecutive batches of indices 0..count-1 in order, the last one possibly
 * smaller: for scoring a whole set once.
 */
export function orderedBatches(count: number, batchSize: number): Int32Array[] {
  checkBatchSize(batchSize);
  const batches: Int32Array[] = [];
  for (let start = 0; start < count; start += batchSize) {
    const end = Math.min(start + batchSize, count);
    batches.push(Int32Array.from({ length: end - start }, (_, i) => start + i));
  }
  return batches;
}

function checkBatchSize(batchSize: number): void {
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new RangeError(`batch size must be a positive integer, got ${batchSize}`);
  }
}

/** Everything needed to resume a BatchSampler exactly where it stopped. */
export interface SamplerState {
  count: number;
  batchSize: number;
  dropLast: boolean;
  /** The epoch the current permutation belongs to (0-based). */
  epoch: number;
  /** How many indices of the current permutation have been handed out. */
  position: number;
  /** The Rng state from which the current permutation was drawn. */
  epochRngState: number;
}

/** One batch handed out by a BatchSampler. */
export interface SampledBatch {
  indices: Int32Array;
  /** 0-based epoch the batch belongs to. */
  epoch: number;
  /** 0-based index of the batch within its epoch. */
  batchInEpoch: number;
  /** True for the epoch's final batch. */
  lastInEpoch: boolean;
}

/**
 * Hands out batches of indices in a seeded random order that is reshuffled every
 * epoch. Only the Rng state at the start of the epoch and the position in it are
 * kept, so `getState()` is a few numbers that fit in a checkpoint, and a sampler
 * restored with `setState()` continues with the very batches the original would
 * have produced.
 *
 * With `dropLast` (the default) an epoch has floor(count / batchSize) full batches
 * and the few images left over wait for a later epoch's shuffle: equal batch shapes
 * keep tfjs from allocating per shape, and BN statistics are never taken over a
 * handful of images.
 *
 * @example
 * const sampler = new BatchSampler(train.count, 64, seed);
 * const { indices, epoch } = sampler.next();
 */
export class BatchSampler {
  readonly count: number;
  readonly batchSize: number;
  readonly dropLast: boolean;
  private readonly rng: Rng;
  private order: Int32Array;
  private epochIndex = 0;
  private position = 0;
  private epochRngState: number;

  constructor(count: number, batchSize: number, seed: number, opts: { dropLast?: boolean } = {}) {
    checkBatchSize(batchSize);
    this.dropLast = opts.dropLast ?? true;
    if (!Number.isInteger(count) || count < (this.dropLast ? batchSize : 1)) {
      throw new RangeError(
        `cannot draw batches of ${batchSize} from ${count} images; use a smaller batch ` +
          'size or a larger set',
      );
    }

    this.count = count;
    this.batchSize = batchSize;
    this.rng = new Rng(seed);
    this.epochRngState = this.rng.getState();
    this.order = shuffledOrder(count, this.rng);
  }

  /** Batches per epoch. */
  get batchesPerEpoch(): number {
    const whole = Math.floor(this.count / this.batchSize);
    return this.dropLast || this.count % this.batchSize === 0 ? whole : whole + 1;
  }

  /** The epoch the next batch will come from. */
  get epoch(): number {
    return this.remaining() === 0 ? this.epochIndex + 1 : this.epochIndex;
  }

  private remaining(): number {
    const left = this.count - this.position;
    return this.dropLast && left < this.batchSize ? 0 : left;
  }

  private startNextEpoch(): void {
    this.epochIndex++;
    this.position = 0;
    this.epochRngState = this.rng.getState();
    this.order = shuffledOrder(this.count, this.rng);
  }

  /** The next batch, starting a freshly shuffled epoch when the current one is used up. */
  next(): SampledBatch {
    if (this.remaining() === 0) this.startNextEpoch();

    const start = this.position;
    const end = Math.min(start + this.batchSize, this.count);
    this.position = end;
    return {
      indices: this.order.slice(start, end),
      epoch: this.epochIndex,
      batchInEpoch: Math.floor(start / this.batchSize),
      lastInEpoch: this.remaining() === 0,
    };
  }

  /** A snapshot to store in a checkpoint (plain numbers, JSON-safe). */
  getState(): SamplerState {
    return {
      count: this.count,
      batchSize: this.batchSize,
      dropLast: this.dropLast,
      epoch: this.epochIndex,
      position: this.position,
      epochRngState: this.epochRngState,
    };
  }

  /**
   * Restores a snapshot taken by `getState()` on a sampler of the same set size and
   * batch size; the permutation is redrawn from the saved Rng state.
   *
   * @throws RangeError when the snapshot was taken with another set or batch size.
   */
  setState(state: SamplerState): void {
    const same =
      state.count === this.count &&
      state.batchSize === this.batchSize &&
      state.dropLast === this.dropLast;
    if (!same || state.position < 0 || state.position > this.count) {
      throw new RangeError(
        `sampler checkpoint is for ${state.count} images in batches of ${state.batchSize} ` +
          `(dropLast ${state.dropLast}, position ${state.position}) but this sampler has ` +
          `${this.count} in batches of ${this.batchSize} (dropLast ${this.dropLast}); ` +
          'resume with the same data, split and batch size',
      );
    }

    this.rng.setState(state.epochRngState);
    this.epochRngState = state.epochRngState;
    this.order = shuffledOrder(this.count, this.rng);
    this.epochIndex = state.epoch;
    this.position = state.position;
  }
}

/** A batch as plain arrays: NHWC float32 pixels and int32 labels. */
export interface BatchArrays {
  x: Float32Array;
  y: Int32Array;
  shape: [number, number, number, number];
}

/**
 * The value each byte maps to, per channel: (byte / 255 - mean[c]) / std[c].
 * Indexed [c * 256 + byte]; a lookup is cheaper than the arithmetic per pixel.
 */
function normalizationTable(set: ImageSet): Float32Array {
  const { mean, std } = set.normalization;
  if (mean.length !== set.channels || std.length !== set.channels) {
    throw new RangeError(
      `${set.name} has ${set.channels} channels but its normalisation has ` +
        `${mean.length} means and ${std.length} standard deviations; give one per channel`,
    );
  }

  const table = new Float32Array(256 * set.channels);
  for (let c = 0; c < set.channels; c++) {
    for (let b = 0; b < 256; b++) table[c * 256 + b] = (b / 255 - mean[c]) / std[c];
  }
  return table;
}

/**
 * Copies the images at `indices` into a normalised float32 NHWC array and their
 * labels into an int32 array, without touching tfjs (usable in a worker).
 *
 * @throws RangeError when an index is outside the set.
 */
export function batchArrays(set: ImageSet, indices: ArrayLike<number>): BatchArrays {
  const size = imageBytes(set);
  const channels = set.channels;
  const table = normalizationTable(set);
  const x = new Float32Array(indices.length * size);
  const y = new Int32Array(indices.length);

  for (let i = 0; i < indices.length; i++) {
    const index = indices[i];
    if (!(index >= 0 && index < set.count && Number.isInteger(index))) {
      throw new RangeError(
        `batch index ${index} is outside ${set.name}'s ${set.count} images`,
      );
    }
    y[i] = set.labels[index];
    const src = index * size;
    const dst = i * size;
    if (channels === 1) {
      for (let p = 0; p < size; p++) x[dst + p] = table[set.images[src + p]];
    } else {
      for (let p = 0; p < size; p++) {
        x[dst + p] = table[(p % channels) * 256 + set.images[src + p]];
      }
    }
  }

  return { x, y, shape: [indices.length, set.height, set.width, channels] };
}

/**
 * The images at `indices` as a normalised float32 tensor [n, height, width,
 * channels] and their labels as an int32 tensor [n]. The caller owns (and must
 * dispose) both. Call it outside tf.tidy: the arrays are built in plain
 * JavaScript and handed to tfjs once.
 *
 * @example
 * const { x, y } = toBatch(train, sampler.next().indices);
 * try { step(x, y); } finally { x.dispose(); y.dispose(); }
 * @throws RangeError when an index is outside the set.
 */
export function toBatch(
  set: ImageSet,
  indices: ArrayLike<number>,
): { x: tf.Tensor4D; y: tf.Tensor1D } {
  const arrays = batchArrays(set, indices);
  const x = tf.tensor4d(arrays.x, arrays.shape, 'float32');
  const y = tf.tensor1d(arrays.y, 'int32');
  return { x, y };
}

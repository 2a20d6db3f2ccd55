/**
 * Decoding architecture parameters (alpha) into a discrete architecture, and
 * the mask of where the skip op is not allowed.
 *
 * Porting note: the authors' code takes a plain argmax per sub-block and only
 * protects sub-block 0, so it can emit expansion 1 or (with FS) skips in the
 * middle. Here decoding never yields an invalid architecture.
 */
import { validateSpaceOptions } from './architecture.js';
import {
  KERNEL_OPS,
  MAX_EXPANSION,
  SKIP_INDEX,
  SUB_BLOCK_OPS,
  type Architecture,
  type SpaceOptions,
  type SubBlockOp,
} from './types.js';

const OPS = SUB_BLOCK_OPS.length;
const LAYER_SIZE = MAX_EXPANSION * OPS;

/** Alpha as nested arrays [L][6][4], or flat row-major data of shape [L, 6, 4]. */
export type AlphaData = number[][][] | Float32Array;

/** Flattens alpha to row-major [L, 6, 4], checking its shape and values. */
function flattenAlpha(alpha: AlphaData): Float32Array {
  if (alpha instanceof Float32Array) {
    if (alpha.length === 0 || alpha.length % LAYER_SIZE !== 0) {
      throw new RangeError(
        `alpha of length ${alpha.length} is not [L, ${MAX_EXPANSION}, ${OPS}]: ` +
          `the length must be a positive multiple of ${LAYER_SIZE}`,
      );
    }
    return alpha;
  }

  const flat = new Float32Array(alpha.length * LAYER_SIZE);
  alpha.forEach((layer, l) => {
    if (layer.length !== MAX_EXPANSION || layer.some((row) => row.length !== OPS)) {
      throw new RangeError(
        `alpha layer ${l + 1} (counting from 1) is not ${MAX_EXPANSION} x ${OPS}`,
      );
    }
    layer.forEach((row, s) => flat.set(row, (l * MAX_EXPANSION + s) * OPS));
  });
  return flat;
}

/** Log-softmax of the 4 logits at `offset`. */
function logSoftmax4(data: Float32Array, offset: number): number[] {
  const row = Array.from(data.subarray(offset, offset + OPS));
  if (row.some((v) => !Number.isFinite(v))) {
    throw new RangeError(`alpha holds a non-finite logit at element ${offset}: ${row}`);
  }
  const max = Math.max(...row);
  const logSum = max + Math.log(row.reduce((sum, v) => sum + Math.exp(v - max), 0));
  return row.map((v) => v - logSum);
}

/** Index of the largest kernel log-probability (first one wins ties). */
function bestKernel(logp: number[]): number {
  let best = 0;
  for (let k = 1; k < KERNEL_OPS.length; k++) if (logp[k] > logp[best]) best = k;
  return best;
}

/**
 * With FS: the expansion e maximising the joint log-probability of "kernels
 * in 0..e-1 (each at its best kernel), skips in e..5". Ties go to the smaller e.
 */
function decodeForcedLayer(logps: number[][], minExpansion: number): SubBlockOp[] {
  let bestE = minExpansion;
  let bestScore = -Infinity;

  for (let e = minExpansion; e <= MAX_EXPANSION; e++) {
    let score = 0;
    for (let s = 0; s < MAX_EXPANSION; s++) {
      score += s < e ? logps[s][bestKernel(logps[s])] : logps[s][SKIP_INDEX];
    }
    if (score > bestScore) {
      bestScore = score;
      bestE = e;
    }
  }

  return logps.map((logp, s) => (s < bestE ? KERNEL_OPS[bestKernel(logp)] : 'skip'));
}

/** Without FS: argmax per sub-block; below minExpansion only kernels compete. */
function decodeFreeLayer(logps: number[][], minExpansion: number): SubBlockOp[] {
  return logps.map((logp, s) => {
    const kernel = bestKernel(logp);
    const skipAllowed = s >= minExpansion;
    return skipAllowed && logp[SKIP_INDEX] > logp[kernel] ? 'skip' : KERNEL_OPS[kernel];
  });
}

/**
 * Decodes alpha into the most probable valid architecture.
 *
 * @param alpha logits of shape [L, 6, 4] (ops in SUB_BLOCK_OPS order).
 * @param options with forcedSampling, picks the expansion e in
 *   minExpansion..6 that maximises the joint log-probability (log-softmax per
 *   sub-block; kernels kept in 0..e-1, skips in e..5), then the best kernel of
 *   each kept sub-block; without it, argmax per sub-block. Sub-blocks below
 *   minExpansion never skip.
 * @returns an architecture that validateArchitecture accepts for any preset
 *   with L layers and these options.
 * @throws RangeError for a wrongly shaped alpha or a non-finite logit.
 */
export function decodeAlpha(alpha: AlphaData, options: SpaceOptions): Architecture {
  validateSpaceOptions(options);
  const data = flattenAlpha(alpha);
  const layerCount = data.length / LAYER_SIZE;
  const layers: SubBlockOp[][] = [];

  for (let l = 0; l < layerCount; l++) {
    const logps = Array.from({ length: MAX_EXPANSION }, (_, s) =>
      logSoftmax4(data, (l * MAX_EXPANSION + s) * OPS),
    );
    layers.push(
      options.forcedSampling
        ? decodeForcedLayer(logps, options.minExpansion)
        : decodeFreeLayer(logps, options.minExpansion),
    );
  }

  return { layers };
}

/**
 * Where the skip op is not allowed, for the generator to mask alpha.
 *
 * @param layerCount L, the number of searchable layers.
 * @returns row-major data of shape [L, 6, 4]: 1 at the skip entry of every
 *   sub-block below minExpansion, 0 elsewhere (e.g. add mask * -1e9 to alpha
 *   before the softmax).
 */
export function skipMask(layerCount: number, options: SpaceOptions): Float32Array {
  validateSpaceOptions(options);
  if (!Number.isInteger(layerCount) || layerCount < 1) {
    throw new RangeError(`layerCount must be a positive integer, got ${layerCount}`);
  }

  const mask = new Float32Array(layerCount * LAYER_SIZE);
  for (let l = 0; l < layerCount; l++) {
    for (let s = 0; s < options.minExpansion; s++) {
      mask[(l * MAX_EXPANSION + s) * OPS + SKIP_INDEX] = 1;
    }
  }
  return mask;
}

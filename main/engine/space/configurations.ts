/**
 * The distinct configurations of one searchable layer.
 *
 * Two op lists are the same configuration when they keep the same sub-block
 * positions and the same multiset of kernels: the order of kernels among the
 * kept sub-blocks does not change the function a unified block computes. The
 * skip positions do count, because each sub-block position has its own
 * supernet weights.
 *
 * With forcedSampling the kept positions are always 0..e-1, so a layer has one
 * configuration per multiset of e kernels from {3,5,7}, e in minExpansion..6:
 * 6 + 10 + 15 + 21 + 28 = 80 for minExpansion 2 (method.md section 2). Without
 * forcedSampling, positions 0..minExpansion-1 are kept and any subset of the
 * rest may be, which gives 248 configurations for minExpansion 2.
 */
import { validateSpaceOptions } from './architecture.js';
import {
  KERNEL_OPS,
  MAX_EXPANSION,
  type SpaceOptions,
  type SubBlockOp,
} from './types.js';

/** n choose k, exact for the small numbers used here. */
function choose(n: number, k: number): number {
  if (k < 0 || k > n) return 0;
  let result = 1;
  for (let i = 1; i <= k; i++) result = (result * (n - k + i)) / i;
  return Math.round(result);
}

/** Multisets of size e drawn from the kernel choices: C(e + K - 1, K - 1). */
function kernelMultisets(e: number): number {
  return choose(e + KERNEL_OPS.length - 1, KERNEL_OPS.length - 1);
}

/**
 * How many distinct configurations one layer has (see the file comment).
 *
 * @returns 80 with forcedSampling and minExpansion 2; 248 without.
 */
export function countLayerConfigurations(options: SpaceOptions): number {
  validateSpaceOptions(options);
  const m = options.minExpansion;
  const free = MAX_EXPANSION - m;
  let total = 0;

  for (let extra = 0; extra <= free; extra++) {
    const placements = options.forcedSampling ? 1 : choose(free, extra);
    total += placements * kernelMultisets(m + extra);
  }

  return total;
}

/**
 * How many op lists (ordered, as the supernet sees them) one layer has.
 *
 * @returns 3^2 + ... + 3^6 = 1089 with forcedSampling and minExpansion 2;
 *   3^2 * 4^4 = 2304 without.
 */
export function countLayerOpLists(options: SpaceOptions): number {
  validateSpaceOptions(options);
  const m = options.minExpansion;
  const k = KERNEL_OPS.length;
  if (!options.forcedSampling) return k ** m * (k + 1) ** (MAX_EXPANSION - m);

  let total = 0;
  for (let e = m; e <= MAX_EXPANSION; e++) total += k ** e;
  return total;
}

/**
 * log10 of the number of distinct architectures of a space with `layerCount`
 * searchable layers (80^19 is about 10^36.2 for the paper's space).
 */
export function searchSpaceSizeLog10(layerCount: number, options: SpaceOptions): number {
  return layerCount * Math.log10(countLayerConfigurations(options));
}

/**
 * The canonical op list of a layer's configuration: the same kept positions,
 * with the kept kernels sorted 3x3, 5x5, 7x7 along the kept positions.
 */
export function canonicalLayer(ops: readonly SubBlockOp[]): SubBlockOp[] {
  const kernels = ops
    .filter((op) => op !== 'skip')
    .sort((a, b) => KERNEL_OPS.indexOf(a) - KERNEL_OPS.indexOf(b));
  let next = 0;
  return ops.map((op) => (op === 'skip' ? 'skip' : kernels[next++]));
}

/** Non-decreasing kernel sequences of length e (one per multiset). */
function sortedKernelLists(e: number, from = 0): SubBlockOp[][] {
  if (e === 0) return [[]];
  const lists: SubBlockOp[][] = [];
  for (let k = from; k < KERNEL_OPS.length; k++) {
    for (const rest of sortedKernelLists(e - 1, k)) lists.push([KERNEL_OPS[k], ...rest]);
  }
  return lists;
}

/** The kept-position sets allowed by the options, each sorted ascending. */
function keptPositionSets(options: SpaceOptions): number[][] {
  const m = options.minExpansion;
  const base = Array.from({ length: m }, (_, s) => s);
  if (options.forcedSampling) {
    return Array.from({ length: MAX_EXPANSION - m + 1 }, (_, extra) =>
      Array.from({ length: m + extra }, (_, s) => s),
    );
  }

  const sets: number[][] = [];
  const free = MAX_EXPANSION - m;
  for (let mask = 0; mask < 1 << free; mask++) {
    const extra = [];
    for (let j = 0; j < free; j++) if (mask & (1 << j)) extra.push(m + j);
    sets.push([...base, ...extra]);
  }
  return sets;
}

/**
 * Every distinct configuration of one layer, in canonical form (see
 * canonicalLayer); as many as countLayerConfigurations(options).
 */
export function enumerateLayerConfigurations(options: SpaceOptions): SubBlockOp[][] {
  validateSpaceOptions(options);
  const configs: SubBlockOp[][] = [];

  for (const kept of keptPositionSets(options)) {
    for (const kernels of sortedKernelLists(kept.length)) {
      const ops: SubBlockOp[] = new Array(MAX_EXPANSION).fill('skip');
      kept.forEach((s, i) => (ops[s] = kernels[i]));
      configs.push(ops);
    }
  }

  return configs;
}

/**
 * The cost model: FLOPs (conv multiply-accumulates, in millions), parameter
 * counts, and the differentiable expected cost of paper Eq. 9.
 *
 * Conventions (method.md sections 4 and 8b): BN, activations, adds and the
 * final linear layer cost no FLOPs. A layer at expansion e runs the first 1x1
 * conv at width e * c_in, so both 1x1 costs scale with e.
 */
import * as tf from '@tensorflow/tfjs';

import { expansionRate, validateArchitecture } from './architecture.js';
import { layerShapes, stemOutputSize } from './presets.js';
import {
  DEFAULT_SPACE_OPTIONS,
  KERNEL_OPS,
  MAX_EXPANSION,
  SKIP_INDEX,
  SUB_BLOCK_OPS,
  kernelSize,
  type Architecture,
  type LayerShape,
  type Preset,
  type SpaceOptions,
  type SubBlockOp,
} from './types.js';

/** The cost of one searchable layer, per unit of its choices, in MFLOPs. */
export interface LayerCost {
  /** First 1x1 conv, per kept sub-block: c_in^2 * H^2. */
  expandPerSubBlockM: number;
  /** Second 1x1 conv, per kept sub-block: c_in * c_out * H'^2. */
  projectPerSubBlockM: number;
  /** One depthwise sub-block with a 3x3, 5x5, 7x7 kernel: c_in * k^2 * H'^2. */
  depthwiseM: [number, number, number];
}

/** A lookup table of every cost a preset's architectures are made of. */
export interface CostTable {
  /** Stem, first block and head convs, which no architecture changes. */
  fixedM: number;
  perLayer: LayerCost[];
}

const MEGA = 1e6;

/** Fixed-part MACs as an exact integer: stem, first block, head. */
function fixedMacs(preset: Preset): number {
  const size = stemOutputSize(preset);
  const stemC = preset.stem.channels;
  const stem = size * size * stemC * 9 * preset.inputChannels;
  const firstDepthwise = size * size * stemC * 9;
  const firstProject = size * size * stemC * preset.firstBlockChannels;

  const shapes = layerShapes(preset);
  const last = shapes[shapes.length - 1];
  const headSize = last ? last.outSize : size;
  const headIn = last ? last.cOut : preset.firstBlockChannels;
  const head = headSize * headSize * headIn * preset.headChannels;

  return stem + firstDepthwise + firstProject + head;
}

/** MACs of one searchable layer with the given ops, as an exact integer. */
function layerMacs(shape: LayerShape, ops: readonly SubBlockOp[]): number {
  const { cIn, cOut, inSize, outSize } = shape;
  const e = expansionRate(ops);
  const expand = e * cIn * cIn * inSize * inSize;
  const project = e * cIn * cOut * outSize * outSize;
  const depthwise = ops
    .filter((op) => op !== 'skip')
    .reduce((sum, op) => sum + cIn * kernelSize(op) ** 2 * outSize * outSize, 0);
  return expand + project + depthwise;
}

/**
 * FLOPs of the fixed part of a preset (stem, first block, head convs), in M.
 *
 * @example fixedFlopsM(getPreset('cifar')) // 8.257536
 */
export function fixedFlopsM(preset: Preset): number {
  return fixedMacs(preset) / MEGA;
}

/**
 * Exact FLOPs (conv multiply-accumulates) of an architecture, in M.
 *
 * @param arch an architecture of the preset (validated: any layer count or
 *   op error throws ArchitectureError).
 * @param preset the search space.
 * @returns fixed part plus every searchable layer at its expansion rate.
 */
export function flopsM(arch: Architecture, preset: Preset): number {
  validateArchitecture(arch, preset, { forcedSampling: false, minExpansion: 1 });
  const shapes = layerShapes(preset);
  let macs = fixedMacs(preset);

  shapes.forEach((shape, l) => (macs += layerMacs(shape, arch.layers[l])));

  return macs / MEGA;
}

/** Every searchable layer set to the same ops (useful for extremes and tests). */
export function uniformArchitecture(
  preset: Preset,
  layerOps: readonly SubBlockOp[],
): Architecture {
  return { layers: preset.layers.map(() => [...layerOps]) };
}

/**
 * The smallest and the largest FLOPs a preset's architectures can have.
 *
 * @returns minM: every layer at minExpansion with 3x3 kernels; maxM: every
 *   sub-block 7x7.
 */
export function flopsRangeM(
  preset: Preset,
  options: SpaceOptions = DEFAULT_SPACE_OPTIONS,
): { minM: number; maxM: number } {
  const smallest: SubBlockOp[] = Array.from({ length: MAX_EXPANSION }, (_, s) =>
    s < options.minExpansion ? '3x3' : 'skip',
  );
  const largest: SubBlockOp[] = new Array(MAX_EXPANSION).fill('7x7');

  return {
    minM: flopsM(uniformArchitecture(preset, smallest), preset),
    maxM: flopsM(uniformArchitecture(preset, largest), preset),
  };
}

/**
 * Parameters of the stand-alone network of an architecture (method.md 8b):
 * conv weights (no biases), BN scale and shift, linear weight and bias.
 *
 * @param classes output classes of the final linear layer.
 * @example paramCount(all "33----", getPreset('cifar'), 100) // 1,539,492
 */
export function paramCount(arch: Architecture, preset: Preset, classes: number): number {
  validateArchitecture(arch, preset, { forcedSampling: false, minExpansion: 1 });
  if (!Number.isInteger(classes) || classes < 1) {
    throw new RangeError(`classes must be a positive integer, got ${classes}`);
  }

  const stemC = preset.stem.channels;
  const firstC = preset.firstBlockChannels;
  let params = 9 * preset.inputChannels * stemC + 2 * stemC;
  params += 9 * stemC + 2 * stemC + stemC * firstC + 2 * firstC;

  const shapes = layerShapes(preset);
  shapes.forEach(({ cIn, cOut }, l) => {
    const ops = arch.layers[l];
    const width = expansionRate(ops) * cIn;
    const depthwise = ops
      .filter((op) => op !== 'skip')
      .reduce((sum, op) => sum + kernelSize(op) ** 2 * cIn, 0);
    params += cIn * width + 2 * width + depthwise + 2 * width + width * cOut + 2 * cOut;
  });

  const headIn = shapes.length > 0 ? shapes[shapes.length - 1].cOut : firstC;
  params += headIn * preset.headChannels + 2 * preset.headChannels;
  params += preset.headChannels * classes + classes;
  return params;
}

/**
 * The per-layer cost lookup table of a preset (method.md section 4).
 */
export function buildCostTable(preset: Preset): CostTable {
  const perLayer = layerShapes(preset).map(({ cIn, cOut, inSize, outSize }) => {
    const depthwise = KERNEL_OPS.map((op) => (cIn * kernelSize(op) ** 2 * outSize ** 2) / MEGA);
    return {
      expandPerSubBlockM: (cIn * cIn * inSize ** 2) / MEGA,
      projectPerSubBlockM: (cIn * cOut * outSize ** 2) / MEGA,
      depthwiseM: depthwise as [number, number, number],
    };
  });

  return { fixedM: fixedFlopsM(preset), perLayer };
}

/** Constant tensors of one table: weights [L*6*4, 1] and the constant term. */
interface CostTensors {
  weights: tf.Tensor2D;
  constantM: number;
}

const tensorCache = new WeakMap<CostTable, CostTensors>();

/**
 * Writes Eq. 9 as one linear map: cost = sum(p * W) + constant, where W holds
 * the depthwise cost on kernel ops and -(expand + project) on skip, and the
 * constant is fixedM + 6 * sum over layers of (expand + project). The 1x1 terms
 * thus equal (expand + project) * (6 - sum of skip probabilities).
 */
function costTensors(table: CostTable): CostTensors {
  const cached = tensorCache.get(table);
  if (cached && !cached.weights.isDisposed) return cached;

  const opCount = SUB_BLOCK_OPS.length;
  const values = new Float32Array(table.perLayer.length * MAX_EXPANSION * opCount);
  let constantM = table.fixedM;

  table.perLayer.forEach((layer, l) => {
    const oneByOne = layer.expandPerSubBlockM + layer.projectPerSubBlockM;
    constantM += MAX_EXPANSION * oneByOne;
    for (let s = 0; s < MAX_EXPANSION; s++) {
      const base = (l * MAX_EXPANSION + s) * opCount;
      for (let k = 0; k < KERNEL_OPS.length; k++) values[base + k] = layer.depthwiseM[k];
      values[base + SKIP_INDEX] = -oneByOne;
    }
  });

  // Kept outside any caller's tidy scope: the cache outlives the call.
  const weights = tf.keep(tf.tensor2d(values, [values.length, 1]));
  const entry = { weights, constantM };
  tensorCache.set(table, entry);
  return entry;
}

/**
 * Releases the cached constant tensors of a cost table (they are rebuilt on
 * the next expectedFlopsM call if needed).
 */
export function disposeCostTableTensors(table: CostTable): void {
  const cached = tensorCache.get(table);
  if (cached) cached.weights.dispose();
  tensorCache.delete(table);
}

/**
 * The differentiable expected cost Cost(alpha) of paper Eq. 9, in MFLOPs.
 *
 * @param probs op probabilities of shape [B, L, 6, 4], ops in SUB_BLOCK_OPS
 *   order (e.g. a Gumbel softmax of alpha).
 * @param table the preset's cost table (its constant tensors are cached).
 * @returns shape [B]: per sample, the sum of p * depthwise cost, plus both 1x1
 *   costs times the expected expansion (6 minus the summed skip probabilities),
 *   plus the fixed part. One-hot probs give exactly flopsM of the architecture.
 * @throws RangeError when probs does not have the table's [L, 6, 4] shape.
 */
export function expectedFlopsM(probs: tf.Tensor, table: CostTable): tf.Tensor1D {
  const layerCount = table.perLayer.length;
  const [, l, s, o] = probs.shape;
  if (probs.rank !== 4 || l !== layerCount || s !== MAX_EXPANSION || o !== SUB_BLOCK_OPS.length) {
    throw new RangeError(
      `expectedFlopsM wants probs of shape [B, ${layerCount}, ${MAX_EXPANSION}, ` +
        `${SUB_BLOCK_OPS.length}], got [${probs.shape.join(', ')}]`,
    );
  }

  const { weights, constantM } = costTensors(table);
  return tf.tidy(() => {
    const flat = tf.reshape(probs, [probs.shape[0], -1]) as tf.Tensor2D;
    const perSample = tf.matMul(flat, weights).reshape([-1]) as tf.Tensor1D;
    return tf.add(perSample, constantM) as tf.Tensor1D;
  });
}

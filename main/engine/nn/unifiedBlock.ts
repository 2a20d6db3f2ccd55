/**
 * The unified block of the supernet (method.md section 2) and the batch
 * normalisation bookkeeping every supernet layer shares.
 *
 * Layout of one unified block with c_in input channels: each of the
 * MAX_EXPANSION sub-blocks owns a 1x1 expand weight [c_in, c_in] with its BN,
 * one depthwise weight [k, k, c_in, 1] with its own BN per kernel op, and the
 * rows [c_in, c_out] of the projection 1x1. The projection BN is one per
 * expansion rate with shadow BN (SBN), else one shared.
 *
 * Single path runs only the kept sub-blocks: the expand columns of skipped
 * sub-blocks are never computed. Since BN works per channel and a skipped
 * group's projection input is zero, this gives exactly the outputs and
 * gradients of the full-width expand followed by zeroing skipped groups.
 * Kept sub-blocks are grouped by kernel size, so a layer runs at most three
 * expand / depthwise / projection chains, each over the concatenated
 * channels of its group, and sums the chains' projections.
 */
import * as tf from '@tensorflow/tfjs';

import {
  batchNormInfer,
  batchNormTrain,
  conv1x1,
  depthwiseConv,
  INPUT_GRADIENT_ONLY,
} from '../ops/index.js';
import {
  KERNEL_OPS,
  MAX_EXPANSION,
  kernelSize,
  type LayerShape,
  type SubBlockOp,
} from '../space/types.js';
import type { ParamStore } from './params.js';

/** PyTorch's BatchNorm2d epsilon. */
export const BN_EPSILON = 1e-5;

/** The four tensors of one batch normalisation. */
export interface BatchNormParams {
  /** Logical name prefix, e.g. "layer2/sub0/k5/bn". */
  readonly name: string;
  readonly channels: number;
  readonly gamma: tf.Variable;
  readonly beta: tf.Variable;
  readonly runningMean: tf.Variable;
  readonly runningVariance: tf.Variable;
}

/**
 * Batch statistics of one training-mode BN call, possibly over several BNs
 * whose channels were concatenated (targets in channel order). The tensors are
 * kept out of tidy scopes; `updateRunningStatistics` consumes them.
 */
export interface BatchNormStat {
  targets: BatchNormParams[];
  mean: tf.Tensor1D;
  /** Biased variance (divided by count). */
  variance: tf.Tensor1D;
  /** Elements per channel the statistics came from (N x H x W). */
  count: number;
}

/** How a forward pass treats batch normalisation. */
export interface BatchNormMode {
  /** Batch statistics (true) or running statistics (false). */
  training: boolean;
  /** Where training-mode calls leave their batch statistics, when given. */
  stats?: BatchNormStat[];
}

/** Creates the four variables of a BN: scale 1, shift 0, mean 0, variance 1. */
export function createBatchNorm(
  store: ParamStore,
  name: string,
  channels: number,
): BatchNormParams {
  return {
    name,
    channels,
    gamma: store.constant(`${name}/gamma`, [channels], 1, 'bnScale'),
    beta: store.constant(`${name}/beta`, [channels], 0, 'bnShift'),
    runningMean: store.constant(`${name}/mean`, [channels], 0, 'bnRunningMean'),
    runningVariance: store.constant(`${name}/variance`, [channels], 1, 'bnRunningVariance'),
  };
}

function concatChannels(tensors: tf.Tensor1D[]): tf.Tensor1D {
  return tensors.length === 1 ? tensors[0] : tf.concat(tensors, 0);
}

/**
 * Normalises x whose channels are the concatenation of `bns`' channels.
 *
 * @param x [N,H,W,C] or [N,C] with C the sum of the BNs' channels.
 * @param relu6After apply ReLU6 to the result; in training the engine fuses
 *   the two, which saves kernels and keeps one tensor less for the backward.
 */
export function applyBatchNorm<T extends tf.Tensor4D | tf.Tensor2D>(
  x: T,
  bns: BatchNormParams[],
  mode: BatchNormMode,
  relu6After = false,
): T {
  const gamma = concatChannels(bns.map((b) => b.gamma as tf.Tensor1D));
  const beta = concatChannels(bns.map((b) => b.beta as tf.Tensor1D));

  if (!mode.training) {
    const mean = concatChannels(bns.map((b) => b.runningMean as tf.Tensor1D));
    const variance = concatChannels(bns.map((b) => b.runningVariance as tf.Tensor1D));
    // Evaluation mode never trains the BN (scoring, the generator's frozen supernet).
    return batchNormInfer(x, gamma, beta, mean, variance, BN_EPSILON,
      { relu6After, frozen: true });
  }

  const result = batchNormTrain(x, gamma, beta, BN_EPSILON, relu6After);
  if (mode.stats) {
    mode.stats.push({
      targets: bns,
      mean: tf.keep(result.mean),
      variance: tf.keep(result.variance),
      count: x.size / x.shape[x.rank - 1],
    });
  }
  return result.y;
}

/**
 * Folds batch statistics into the running statistics, PyTorch's way:
 * running = (1 - momentum) * running + momentum * batch, with the variance
 * made unbiased (x n / (n - 1)). Call it outside any gradient tape. The
 * statistics' tensors are disposed.
 *
 * @param momentum 0.1 while training; 1 / (t + 1) for the t-th (0-based)
 *   batch gives the cumulative average used for BN recalibration.
 */
export function updateRunningStatistics(stats: BatchNormStat[], momentum: number): void {
  tf.tidy(() => {
    for (const stat of stats) {
      const sizes = stat.targets.map((t) => t.channels);
      const means = stat.targets.length === 1 ? [stat.mean] : tf.split(stat.mean, sizes);
      const unbiased = tf.mul(stat.variance, stat.count / Math.max(stat.count - 1, 1));
      const vars = stat.targets.length === 1 ? [unbiased] : tf.split(unbiased, sizes);

      stat.targets.forEach((bn, i) => {
        bn.runningMean.assign(
          tf.add(tf.mul(bn.runningMean, 1 - momentum), tf.mul(means[i], momentum)),
        );
        bn.runningVariance.assign(
          tf.add(tf.mul(bn.runningVariance, 1 - momentum), tf.mul(vars[i], momentum)),
        );
      });
    }
  });

  for (const stat of stats) {
    stat.mean.dispose();
    stat.variance.dispose();
  }
  stats.length = 0;
}

/** Releases batch statistics that will not be used. */
export function disposeBatchStats(stats: BatchNormStat[]): void {
  for (const stat of stats) {
    stat.mean.dispose();
    stat.variance.dispose();
  }
  stats.length = 0;
}

/** The weights of one sub-block. */
interface SubBlock {
  expand: tf.Variable;
  expandBn: BatchNormParams;
  /** Depthwise weight and BN by kernel op ('3x3', '5x5', '7x7'). */
  ops: Map<SubBlockOp, { weight: tf.Variable; bn: BatchNormParams }>;
  project: tf.Variable;
}

/** Index of the projection BN for a layer with this many skipped sub-blocks. */
export function shadowBatchNormIndex(skipCount: number): number {
  return skipCount;
}

/**
 * One searchable layer of the supernet.
 *
 * ```ts
 * const block = new UnifiedBlock(store, 'layer0', shape, { shadowBatchNorm: true,
 *   minExpansion: 2 });
 * const y = block.forwardSinglePath(x, ['3x3', '7x7', 'skip', 'skip', 'skip', 'skip'],
 *   { training: true });
 * ```
 */
export class UnifiedBlock {
  readonly shape: LayerShape;
  private readonly subBlocks: SubBlock[] = [];
  /** Projection BNs, indexed by skip count (one entry without SBN). */
  private readonly projectBns: BatchNormParams[] = [];

  /**
   * @param store where the block's variables are created (seeded init).
   * @param name prefix of the block's parameter names.
   * @param options shadowBatchNorm: one projection BN per expansion rate
   *   minExpansion..MAX_EXPANSION; minExpansion also bounds the skip count.
   */
  constructor(
    store: ParamStore,
    name: string,
    shape: LayerShape,
    options: { shadowBatchNorm: boolean; minExpansion: number },
  ) {
    this.shape = shape;
    const { cIn, cOut } = shape;

    for (let i = 0; i < MAX_EXPANSION; i++) {
      const prefix = `${name}/sub${i}`;
      const expand = store.heNormal(`${prefix}/expand`, [cIn, cIn], cIn * MAX_EXPANSION);
      const expandBn = createBatchNorm(store, `${prefix}/expand_bn`, cIn);
      const ops = new Map<SubBlockOp, { weight: tf.Variable; bn: BatchNormParams }>();
      for (const op of KERNEL_OPS) {
        const k = kernelSize(op);
        const weight = store.heNormal(`${prefix}/k${k}/dw`, [k, k, cIn, 1], k * k);
        ops.set(op, { weight, bn: createBatchNorm(store, `${prefix}/k${k}/bn`, cIn) });
      }
      const project = store.heNormal(`${prefix}/project`, [cIn, cOut], cOut);
      this.subBlocks.push({ expand, expandBn, ops, project });
    }

    const bnCount = options.shadowBatchNorm ? MAX_EXPANSION - options.minExpansion + 1 : 1;
    for (let j = 0; j < bnCount; j++) {
      const bnName = options.shadowBatchNorm ? `${name}/project_bn${j}` : `${name}/project_bn`;
      this.projectBns.push(createBatchNorm(store, bnName, cOut));
    }
  }

  /** How many projection BNs the block has (MAX_EXPANSION - minExpansion + 1 with SBN). */
  get projectionBatchNormCount(): number {
    return this.projectBns.length;
  }

  /** The projection BN used when `skipCount` sub-blocks are skipped. */
  projectionBatchNorm(skipCount: number): BatchNormParams {
    if (this.projectBns.length === 1) return this.projectBns[0];
    const index = shadowBatchNormIndex(skipCount);
    const bn = this.projectBns[index];
    if (!bn) {
      throw new RangeError(
        `SBN index ${index} (skip count ${skipCount}) is outside 0..${this.projectBns.length - 1}`,
      );
    }
    return bn;
  }

  /** Every BN that `ops` (this layer's sub-block ops) uses. */
  batchNormsOf(ops: readonly SubBlockOp[]): BatchNormParams[] {
    const bns: BatchNormParams[] = [];
    ops.forEach((op, i) => {
      if (op === 'skip') return;
      const sub = this.subBlocks[i];
      bns.push(sub.expandBn, (sub.ops.get(op) as { bn: BatchNormParams }).bn);
    });
    const skips = ops.filter((op) => op === 'skip').length;
    bns.push(this.projectionBatchNorm(skips));
    return bns;
  }

  /**
   * The block's output for one discrete choice of sub-block ops.
   *
   * @param x [N, inSize, inSize, cIn].
   * @param ops the op of each of the MAX_EXPANSION sub-blocks.
   * @returns [N, outSize, outSize, cOut].
   */
  forwardSinglePath(x: tf.Tensor4D, ops: readonly SubBlockOp[], mode: BatchNormMode): tf.Tensor4D {
    const groups = KERNEL_OPS.map((op) => ({
      op,
      members: ops.flatMap((o, i) => (o === op ? [i] : [])),
    })).filter((g) => g.members.length > 0);
    const kept = groups.reduce((n, g) => n + g.members.length, 0);

    // Each kernel group runs expand, depthwise and its rows of the projection
    // on its own channels; the projections are summed. This equals one wide
    // expand split by group and one projection of the concatenation, without
    // the channel split and concat, which wasm copies slowly (a SplitV of
    // [256,14,14,48] took 19 ms, more than the depthwise conv after it).
    let projected: tf.Tensor4D | null = null;
    for (const g of groups) {
      const subs = g.members.map((i) => this.subBlocks[i]);
      const expandW = concatAxis(subs.map((s) => s.expand as tf.Tensor2D), 1);
      const hidden = applyBatchNorm(conv1x1(x, expandW), subs.map((s) => s.expandBn), mode, true);

      const branches = subs.map((s) => s.ops.get(g.op)!);
      const weight = concatAxis(branches.map((b) => b.weight as tf.Tensor4D), 2);
      const conv = depthwiseConv(hidden, weight, this.shape.stride);
      const out = applyBatchNorm(conv, branches.map((b) => b.bn), mode, true);

      const projectW = concatAxis(subs.map((s) => s.project as tf.Tensor2D), 0);
      const part = conv1x1(out, projectW);
      projected = projected === null ? part : (tf.add(projected, part) as tf.Tensor4D);
    }

    const skips = MAX_EXPANSION - kept;
    const bn = this.projectionBatchNorm(skips);
    const y = applyBatchNorm(projected as unknown as tf.Tensor4D, [bn], mode);
    return this.shape.residual ? (tf.add(y, x) as tf.Tensor4D) : y;
  }

  /**
   * The block's output when every sub-block is the weighted sum of its three
   * depthwise branches (skip contributes zero), BN on running statistics.
   *
   * @param x [N, inSize, inSize, cIn].
   * @param opWeights [MAX_EXPANSION, 4] for the whole batch, or
   *   [N, MAX_EXPANSION, 4] per example; ops in SUB_BLOCK_OPS order.
   * @param sbnIndex projection BN to use (the rounded expected skip count).
   * @returns [N, outSize, outSize, cOut], differentiable in opWeights.
   */
  forwardWeighted(x: tf.Tensor4D, opWeights: tf.Tensor, sbnIndex: number): tf.Tensor4D {
    const mode: BatchNormMode = { training: false };
    const { cIn } = this.shape;
    const all = this.subBlocks;

    // The supernet is frozen here: its convs compute input gradients only.
    const frozen = INPUT_GRADIENT_ONLY;
    const expandW = tf.concat(all.map((s) => s.expand as tf.Tensor2D), 1);
    const expanded = conv1x1(x, expandW, frozen);
    const hidden = applyBatchNorm(expanded, all.map((s) => s.expandBn), mode, true);

    // Per-channel weights: sub-block i's weight repeated over its cIn channels,
    // one [rows,1,1,6*cIn] map per kernel op. The op axis is moved to the front
    // first, since wasm slices a leading axis far faster than a trailing one.
    const rows = opWeights.rank === 2 ? 1 : opWeights.shape[0];
    const byOp = tf.transpose(
      tf.reshape(opWeights, [rows, MAX_EXPANSION, KERNEL_OPS.length + 1]),
      [2, 0, 1],
    );
    const spread = tf.ones([1, 1, 1, cIn]);
    const kernelWeights = KERNEL_OPS.map((_, j) => {
      const weightsOfOp = tf.slice(byOp, [j, 0, 0], [1, rows, MAX_EXPANSION]);
      const perSubBlock = tf.reshape(weightsOfOp, [rows, MAX_EXPANSION, 1, 1]);
      return tf.reshape(tf.mul(perSubBlock, spread), [rows, 1, 1, MAX_EXPANSION * cIn]);
    });

    let mixed: tf.Tensor4D | null = null;
    KERNEL_OPS.forEach((op, j) => {
      const branches = all.map((s) => s.ops.get(op)!);
      const weight = tf.concat(branches.map((b) => b.weight as tf.Tensor4D), 2);
      const conv = depthwiseConv(hidden, weight, this.shape.stride, frozen);
      const out = applyBatchNorm(conv, branches.map((b) => b.bn), mode, true);
      const w = kernelWeights[j];
      const term = tf.mul(out, w) as tf.Tensor4D;
      mixed = mixed === null ? term : tf.add(mixed, term);
    });

    const projectW = tf.concat(all.map((s) => s.project as tf.Tensor2D), 0);
    const bn = this.projectBns.length === 1 ? this.projectBns[0] : this.projectBns[sbnIndex];
    if (!bn) {
      throw new RangeError(
        `sbnIndex ${sbnIndex} is outside 0..${this.projectBns.length - 1} for this layer`,
      );
    }
    const projected = conv1x1(mixed as unknown as tf.Tensor4D, projectW, frozen);
    const y = applyBatchNorm(projected, [bn], mode);
    return this.shape.residual ? (tf.add(y, x) as tf.Tensor4D) : y;
  }
}

function concatAxis<T extends tf.Tensor>(tensors: T[], axis: number): T {
  return tensors.length === 1 ? tensors[0] : (tf.concat(tensors, axis) as T);
}

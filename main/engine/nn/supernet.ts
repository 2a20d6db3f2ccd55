/**
 * The SGNAS supernet (method.md section 2): a fixed stem and first block, one
 * unified block per searchable layer, and a fixed head. Every op of every
 * sub-block has its own weights and BN.
 *
 * Two forward passes:
 * - forwardSinglePath: one discrete architecture (supernet training, scoring);
 * - forwardWeighted: every sub-block the weighted sum of its ops, weights
 *   frozen, BN on running statistics (the generator's training signal).
 *
 * Porting Note: the head has no dropout here. The supernet is trained on
 * sampled single paths, which already regularise it, and leaving dropout out
 * keeps training mode free of random draws.
 */
import * as tf from '@tensorflow/tfjs';

import {
  ALL_GRADIENTS,
  conv1x1,
  conv2d,
  dense,
  depthwiseConv,
  FILTER_GRADIENT_ONLY,
  globalAvgPool,
  INPUT_GRADIENT_ONLY,
  type OpGradients,
} from '../ops/index.js';
import { validateArchitecture } from '../space/architecture.js';
import { layerShapes } from '../space/presets.js';
import {
  MAX_EXPANSION,
  SUB_BLOCK_OPS,
  type Architecture,
  type LayerShape,
  type Preset,
  type SpaceOptions,
} from '../space/types.js';
import { Rng } from '../rng.js';
import { createHeadParams, createStemParams } from './fixedParts.js';
import { ParamStore } from './params.js';
import {
  applyBatchNorm,
  updateRunningStatistics,
  UnifiedBlock,
  type BatchNormMode,
  type BatchNormParams,
  type BatchNormStat,
} from './unifiedBlock.js';

/** How a supernet is built. */
export interface SupernetOptions extends SpaceOptions {
  /** SBN: one projection BN per expansion rate in every unified block. */
  shadowBatchNorm: boolean;
  /** Seed of the weight initialisation (0 by default). */
  seed?: number;
}

/** PyTorch's BN momentum, the weight of the newest batch in the running stats. */
export const BN_MOMENTUM = 0.1;

/**
 * The supernet of one search space.
 *
 * ```ts
 * const net = new Supernet(getPreset('fmnist'), 10,
 *   { shadowBatchNorm: true, forcedSampling: true, minExpansion: 2, seed: 1 });
 * const stats: BatchNormStat[] = [];
 * const logits = net.forwardSinglePath(x, arch, true, stats);
 * net.updateRunningStatistics(stats); // outside the gradient tape
 * ```
 */
export class Supernet {
  readonly preset: Preset;
  readonly classes: number;
  readonly options: Readonly<Required<SupernetOptions>>;
  readonly shapes: readonly LayerShape[];
  /** Every variable, by logical name; save, load and optimise through it. */
  readonly store: ParamStore;
  readonly blocks: readonly UnifiedBlock[];

  private readonly stemConv: tf.Variable;
  private readonly stemBn: BatchNormParams;
  private readonly firstDw: tf.Variable;
  private readonly firstDwBn: BatchNormParams;
  private readonly firstProject: tf.Variable;
  private readonly firstProjectBn: BatchNormParams;
  private readonly headConv: tf.Variable;
  private readonly headBn: BatchNormParams;
  private readonly classifierW: tf.Variable;
  private readonly classifierB: tf.Variable;

  /**
   * @param preset the search space.
   * @param classes outputs of the classifier.
   * @throws RangeError when classes < 2 or minExpansion is out of 1..6.
   */
  constructor(preset: Preset, classes: number, options: SupernetOptions) {
    if (!Number.isInteger(classes) || classes < 2) {
      throw new RangeError(`a classifier needs at least 2 classes, got ${classes}`);
    }
    const m = options.minExpansion;
    if (!Number.isInteger(m) || m < 1 || m > MAX_EXPANSION) {
      throw new RangeError(`minExpansion must be an integer in 1..${MAX_EXPANSION}, got ${m}`);
    }

    this.preset = preset;
    this.classes = classes;
    this.options = { seed: 0, ...options };
    this.shapes = layerShapes(preset);
    this.store = new ParamStore(new Rng(this.options.seed), `supernet-${preset.name}`);
    const s = this.store;

    ({
      stemConv: this.stemConv,
      stemBn: this.stemBn,
      firstDw: this.firstDw,
      firstDwBn: this.firstDwBn,
      firstProject: this.firstProject,
      firstProjectBn: this.firstProjectBn,
    } = createStemParams(s, preset));

    this.blocks = this.shapes.map(
      (shape, l) =>
        new UnifiedBlock(s, `layer${l}`, shape, {
          shadowBatchNorm: options.shadowBatchNorm,
          minExpansion: m,
        }),
    );

    ({
      headConv: this.headConv,
      headBn: this.headBn,
      classifierW: this.classifierW,
      classifierB: this.classifierB,
    } = createHeadParams(s, preset, classes));
  }

  /** Trainable values of the supernet (BN running statistics excluded). */
  paramCount(): number {
    return this.store.trainableCount();
  }

  /**
   * Logits of one architecture.
   *
   * @param x normalised images [N, inputSize, inputSize, inputChannels].
   * @param arch the architecture; it must fit the preset and space options.
   * @param training BN on batch statistics (true) or running statistics.
   * @param stats in training mode, receives every BN's batch statistics; pass
   *   them to updateRunningStatistics after the gradient step.
   * @returns [N, classes].
   * @throws ArchitectureError when arch does not fit the space.
   */
  forwardSinglePath(
    x: tf.Tensor4D,
    arch: Architecture,
    training: boolean,
    stats?: BatchNormStat[],
  ): tf.Tensor2D {
    validateArchitecture(arch, this.preset, this.options);
    this.checkInput(x);
    const mode: BatchNormMode = { training, stats };

    return tf.tidy(() => {
      let h = this.stemAndFirstBlock(x, mode, ALL_GRADIENTS);
      this.blocks.forEach((block, l) => {
        h = block.forwardSinglePath(h, arch.layers[l], mode);
      });
      return this.head(h, mode, ALL_GRADIENTS);
    });
  }

  /**
   * Logits when every sub-block outputs the weighted sum of its depthwise
   * branches (skip contributes zero), for the architecture generator. BN runs
   * on running statistics. The supernet's variables take part only as
   * constants: take gradients with an explicit variable list (the
   * generator's), e.g. `tf.variableGrads(f, generatorVariables)`, and only
   * opWeights (and what produced it) receive gradients.
   *
   * @param x normalised images [N, inputSize, inputSize, inputChannels].
   * @param opWeights [L, 6, 4] shared by the batch, or [N, L, 6, 4] one
   *   weighting per example; ops in SUB_BLOCK_OPS order.
   * @param sbnIndex per layer, the projection BN to use: the rounded
   *   expected skip count (ignored without SBN).
   * @returns [N, classes], differentiable in opWeights.
   * @throws RangeError when shapes or indices do not fit the supernet.
   */
  forwardWeighted(x: tf.Tensor4D, opWeights: tf.Tensor, sbnIndex: number[]): tf.Tensor2D {
    this.checkInput(x);
    this.checkWeights(x, opWeights, sbnIndex);
    const mode: BatchNormMode = { training: false };
    const layerCount = this.blocks.length;

    return tf.tidy(() => {
      const perExample = opWeights.rank === 4;
      const layers = tf.unstack(opWeights, perExample ? 1 : 0);
      let h = this.stemAndFirstBlock(x, mode, INPUT_GRADIENT_ONLY);
      for (let l = 0; l < layerCount; l++) {
        h = this.blocks[l].forwardWeighted(h, layers[l], sbnIndex[l]);
      }
      return this.head(h, mode, INPUT_GRADIENT_ONLY);
    });
  }

  /**
   * Folds batch statistics from a training-mode forward into the running
   * statistics (momentum 0.1, PyTorch convention), and releases them.
   */
  updateRunningStatistics(stats: BatchNormStat[], momentum = BN_MOMENTUM): void {
    updateRunningStatistics(stats, momentum);
  }

  /** Every BN an architecture's single path uses (fixed parts included). */
  batchNormsOf(arch: Architecture): BatchNormParams[] {
    validateArchitecture(arch, this.preset, this.options);
    const bns = [this.stemBn, this.firstDwBn, this.firstProjectBn];
    this.blocks.forEach((block, l) => bns.push(...block.batchNormsOf(arch.layers[l])));
    bns.push(this.headBn);
    return bns;
  }

  /** Releases every variable. */
  dispose(): void {
    this.store.dispose();
  }

  /**
   * @param grads what the convs compute in a backward pass: the weights'
   *   gradients in training (the stem's input is data, so never its
   *   gradient), the inputs' only when the weights are frozen.
   */
  private stemAndFirstBlock(
    x: tf.Tensor4D,
    mode: BatchNormMode,
    grads: Readonly<OpGradients>,
  ): tf.Tensor4D {
    const stemGrads = grads.filter ? FILTER_GRADIENT_ONLY : INPUT_GRADIENT_ONLY;
    const stem = conv2d(x, this.stemConv as tf.Tensor4D, this.preset.stem.stride, stemGrads);
    const h = applyBatchNorm(stem, [this.stemBn], mode, true);
    const dw = depthwiseConv(h, this.firstDw as tf.Tensor4D, 1, grads);
    const h2 = applyBatchNorm(dw, [this.firstDwBn], mode, true);
    const projected = conv1x1(h2, this.firstProject as tf.Tensor2D, grads);
    return applyBatchNorm(projected, [this.firstProjectBn], mode);
  }

  private head(h: tf.Tensor4D, mode: BatchNormMode, grads: Readonly<OpGradients>): tf.Tensor2D {
    const wide = conv1x1(h, this.headConv as tf.Tensor2D, grads);
    const features = applyBatchNorm(wide, [this.headBn], mode, true);
    const pooled = globalAvgPool(features);
    return dense(pooled, this.classifierW as tf.Tensor2D, this.classifierB as tf.Tensor1D);
  }

  private checkInput(x: tf.Tensor4D): void {
    const p = this.preset;
    const expected = [p.inputSize, p.inputSize, p.inputChannels];
    if (x.rank !== 4 || x.shape.slice(1).join(',') !== expected.join(',')) {
      throw new RangeError(
        `supernet '${p.name}' takes images [N, ${expected}], got [${x.shape}]`,
      );
    }
  }

  private checkWeights(x: tf.Tensor4D, opWeights: tf.Tensor, sbnIndex: number[]): void {
    const layerCount = this.blocks.length;
    const tail = [layerCount, MAX_EXPANSION, SUB_BLOCK_OPS.length];
    const ok =
      (opWeights.rank === 3 && opWeights.shape.join(',') === tail.join(',')) ||
      (opWeights.rank === 4 &&
        opWeights.shape.slice(1).join(',') === tail.join(',') &&
        opWeights.shape[0] === x.shape[0]);
    if (!ok) {
      throw new RangeError(
        `opWeights must be [${tail}] or [${x.shape[0]}, ${tail}] (one row per image), ` +
          `got [${opWeights.shape}]`,
      );
    }

    // Skip counts stay valid without SBN too (the index is then ignored).
    const bnCount = MAX_EXPANSION - this.options.minExpansion + 1;
    const bad = sbnIndex.findIndex((j) => !Number.isInteger(j) || j < 0 || j >= bnCount);
    if (sbnIndex.length !== layerCount || bad >= 0) {
      throw new RangeError(
        `sbnIndex needs ${layerCount} integers in 0..${bnCount - 1} (skip counts), got ` +
          `[${sbnIndex}]`,
      );
    }
  }
}

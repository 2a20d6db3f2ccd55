/**
 * The stand-alone network of an architecture (method.md 8b): what a found
 * architecture becomes when it is trained from scratch. Each searchable layer
 * keeps only its chosen depthwise convs, at width e * c_in.
 *
 * It trains with the engine's ops (whose gradients work on wasm) and exports
 * as a standard tfjs LayersModel built from tf.layers with the same weights.
 * tf.layers has no channel split, so in the export the layer's 1x1 expansion
 * c_in -> e*c_in (and its BN) appears as e convs c_in -> c_in, one per kept
 * sub-block, each with its slice of the BN: BN works per channel, so this is
 * the same function with the same parameters. Symmetric k//2 padding is an
 * explicit ZeroPadding2D before a 'valid' conv, since tf.layers' 'same'
 * padding pads a strided conv on one side only.
 */
import * as tf from '@tensorflow/tfjs';

import { createHeadParams, createStemParams } from '../nn/fixedParts.js';
import { ParamStore } from '../nn/params.js';
import {
  applyBatchNorm,
  BN_EPSILON,
  createBatchNorm,
  type BatchNormMode,
  type BatchNormParams,
} from '../nn/unifiedBlock.js';
import { conv1x1, conv2d, dense, depthwiseConv, globalAvgPool } from '../ops/index.js';
import { Rng } from '../rng.js';
import { validateArchitecture } from '../space/architecture.js';
import { layerShapes } from '../space/presets.js';
import {
  kernelSize,
  type Architecture,
  type LayerShape,
  type Preset,
  type SpaceOptions,
} from '../space/types.js';

/** Dropout before the classifier (method.md 8b). */
export const HEAD_DROPOUT = 0.2;

/** The variables of one searchable layer. */
interface StandaloneLayer {
  shape: LayerShape;
  kernels: number[];
  expand: tf.Variable;
  expandBn: BatchNormParams;
  depthwise: tf.Variable[];
  depthwiseBn: BatchNormParams;
  project: tf.Variable;
  projectBn: BatchNormParams;
}

/**
 * A trainable stand-alone network.
 *
 * ```ts
 * const net = new StandaloneNetwork(arch, getPreset('fmnist'), 10, { seed: 1 });
 * const logits = net.forward(x, false);
 * const model = net.toLayersModel(); // same predictions, for export
 * ```
 */
export class StandaloneNetwork {
  readonly store: ParamStore;
  readonly architecture: Architecture;
  private readonly layers: StandaloneLayer[];
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
   * @param space the options the architecture must fit (e.g. the search's).
   * @throws ArchitectureError when the architecture does not fit the preset.
   */
  constructor(
    architecture: Architecture,
    readonly preset: Preset,
    readonly classes: number,
    options: { seed: number; space?: SpaceOptions },
  ) {
    validateArchitecture(architecture, preset, options.space ?? { forcedSampling: false,
      minExpansion: 1 });
    this.architecture = { layers: architecture.layers.map((ops) => [...ops]) };
    const s = new ParamStore(new Rng(options.seed), `standalone-${preset.name}`);
    this.store = s;

    ({
      stemConv: this.stemConv,
      stemBn: this.stemBn,
      firstDw: this.firstDw,
      firstDwBn: this.firstDwBn,
      firstProject: this.firstProject,
      firstProjectBn: this.firstProjectBn,
    } = createStemParams(s, preset));

    this.layers = layerShapes(preset).map((shape, l) => this.createLayer(shape, l));

    ({
      headConv: this.headConv,
      headBn: this.headBn,
      classifierW: this.classifierW,
      classifierB: this.classifierB,
    } = createHeadParams(s, preset, classes));
  }

  private createLayer(shape: LayerShape, l: number): StandaloneLayer {
    const s = this.store;
    const { cIn, cOut } = shape;
    const kernels = this.architecture.layers[l].filter((op) => op !== 'skip').map(kernelSize);
    const width = kernels.length * cIn;
    return {
      shape,
      kernels,
      expand: s.heNormal(`layer${l}/expand`, [cIn, width], width),
      expandBn: createBatchNorm(s, `layer${l}/expand_bn`, width),
      depthwise: kernels.map((k, j) => s.heNormal(`layer${l}/dw${j}_k${k}`, [k, k, cIn, 1], k * k)),
      depthwiseBn: createBatchNorm(s, `layer${l}/dw_bn`, width),
      project: s.heNormal(`layer${l}/project`, [width, cOut], cOut),
      projectBn: createBatchNorm(s, `layer${l}/project_bn`, cOut),
    };
  }

  /** Trainable values: conv weights, BN scale and shift, linear weight and bias. */
  paramCount(): number {
    return this.store.trainableCount();
  }

  /**
   * Logits for a batch.
   *
   * @param training BN on batch statistics (collected into mode.stats) and
   *   head dropout with `dropoutSeed`; otherwise running statistics, no dropout.
   */
  forward(x: tf.Tensor4D, mode: BatchNormMode, dropoutSeed?: number): tf.Tensor2D {
    return tf.tidy(() => {
      const stem = conv2d(x, this.stemConv as tf.Tensor4D, this.preset.stem.stride);
      let h = applyBatchNorm(stem, [this.stemBn], mode, true);
      h = applyBatchNorm(depthwiseConv(h, this.firstDw as tf.Tensor4D, 1), [this.firstDwBn],
        mode, true);
      h = applyBatchNorm(conv1x1(h, this.firstProject as tf.Tensor2D), [this.firstProjectBn], mode);

      for (const layer of this.layers) h = this.layerForward(layer, h, mode);

      const wide = conv1x1(h, this.headConv as tf.Tensor2D);
      let pooled = globalAvgPool(applyBatchNorm(wide, [this.headBn], mode, true));
      if (mode.training) {
        pooled = tf.dropout(pooled, HEAD_DROPOUT, undefined, dropoutSeed) as tf.Tensor2D;
      }
      return dense(pooled, this.classifierW as tf.Tensor2D, this.classifierB as tf.Tensor1D);
    });
  }

  private layerForward(layer: StandaloneLayer, x: tf.Tensor4D, mode: BatchNormMode): tf.Tensor4D {
    const { stride, residual } = layer.shape;
    const hidden = applyBatchNorm(conv1x1(x, layer.expand as tf.Tensor2D),
      [layer.expandBn], mode, true);
    const e = layer.kernels.length;
    const groups = e === 1 ? [hidden] : tf.split(hidden, e, 3);
    const convs = groups.map((g, j) =>
      depthwiseConv(g as tf.Tensor4D, layer.depthwise[j] as tf.Tensor4D, stride));
    const joined = convs.length === 1 ? convs[0] : (tf.concat(convs, 3) as tf.Tensor4D);
    const out = applyBatchNorm(joined, [layer.depthwiseBn], mode, true);
    const y = applyBatchNorm(conv1x1(out, layer.project as tf.Tensor2D), [layer.projectBn], mode);
    return residual ? (tf.add(y, x) as tf.Tensor4D) : y;
  }

  /**
   * The same network as a tf.LayersModel holding copies of the current
   * weights and running statistics (see the file comment for its layout).
   */
  toLayersModel(): tf.LayersModel {
    const p = this.preset;
    const input = tf.input({ shape: [p.inputSize, p.inputSize, p.inputChannels] });
    const assign: [tf.layers.Layer, tf.Tensor[]][] = [];
    const add = <L extends tf.layers.Layer>(layer: L, weights: tf.Tensor[]): L => {
      assign.push([layer, weights]);
      return layer;
    };
    const apply = (layer: tf.layers.Layer, x: tf.SymbolicTensor | tf.SymbolicTensor[]) =>
      layer.apply(x) as tf.SymbolicTensor;

    let h = apply(pad(1), input);
    h = apply(add(tf.layers.conv2d({ filters: p.stem.channels, kernelSize: 3,
      strides: p.stem.stride, padding: 'valid', useBias: false }), [this.stemConv]), h);
    h = apply(relu6Layer(), apply(bnLayer(add, this.stemBn), h));
    h = apply(add(depthwiseLayer(3, 1), [this.firstDw]), apply(pad(1), h));
    h = apply(relu6Layer(), apply(bnLayer(add, this.firstDwBn), h));
    h = apply(add(pointwise(p.firstBlockChannels), [as1x1(this.firstProject)]), h);
    h = apply(bnLayer(add, this.firstProjectBn), h);

    for (const layer of this.layers) h = this.exportLayer(layer, h, add, apply);

    h = apply(add(pointwise(p.headChannels), [as1x1(this.headConv)]), h);
    h = apply(relu6Layer(), apply(bnLayer(add, this.headBn), h));
    h = apply(tf.layers.globalAveragePooling2d({}), h);
    h = apply(tf.layers.dropout({ rate: HEAD_DROPOUT }), h);
    const logits = apply(add(tf.layers.dense({ units: this.classes }),
      [this.classifierW, this.classifierB]), h);

    const model = tf.model({ inputs: input, outputs: logits, name: 'sgnas_standalone' });
    for (const [layer, weights] of assign) {
      layer.setWeights(weights);
      for (const w of weights) if (!isVariable(w)) w.dispose();
    }
    return model;
  }

  private exportLayer(
    layer: StandaloneLayer,
    x: tf.SymbolicTensor,
    add: <L extends tf.layers.Layer>(layer: L, weights: tf.Tensor[]) => L,
    apply: (layer: tf.layers.Layer, x: tf.SymbolicTensor | tf.SymbolicTensor[]) =>
      tf.SymbolicTensor,
  ): tf.SymbolicTensor {
    const { cIn, cOut, stride, residual } = layer.shape;
    const branches = layer.kernels.map((k, j) => {
      const cols = (t: tf.Tensor) => tf.slice(t, j * cIn, cIn);
      const expand = tf.tidy(() =>
        tf.reshape(tf.slice(layer.expand, [0, j * cIn], [cIn, cIn]), [1, 1, cIn, cIn]));
      let h = apply(add(pointwise(cIn), [expand]), x);
      const bn = layer.expandBn;
      const bnWeights = [bn.gamma, bn.beta, bn.runningMean, bn.runningVariance].map(cols);
      h = apply(relu6Layer(), apply(add(bnLayerOf(), bnWeights), h));
      h = apply(pad(Math.floor(k / 2)), h);
      return apply(add(depthwiseLayer(k, stride), [layer.depthwise[j]]), h);
    });

    let h = branches.length === 1 ? branches[0] : apply(tf.layers.concatenate({ axis: -1 }),
      branches);
    h = apply(relu6Layer(), apply(bnLayer(add, layer.depthwiseBn), h));
    h = apply(add(pointwise(cOut), [as1x1(layer.project)]), h);
    h = apply(bnLayer(add, layer.projectBn), h);
    return residual ? apply(tf.layers.add({}), [h, x]) : h;
  }

  /** Releases every variable. */
  dispose(): void {
    this.store.dispose();
  }
}

function isVariable(t: tf.Tensor): boolean {
  return t instanceof tf.Variable;
}

function pad(p: number): tf.layers.Layer {
  return tf.layers.zeroPadding2d({ padding: [[p, p], [p, p]] });
}

function pointwise(filters: number): tf.layers.Layer {
  return tf.layers.conv2d({ filters, kernelSize: 1, padding: 'valid', useBias: false });
}

function depthwiseLayer(k: number, stride: number): tf.layers.Layer {
  return tf.layers.depthwiseConv2d({ kernelSize: k, strides: stride, padding: 'valid',
    depthMultiplier: 1, useBias: false });
}

function relu6Layer(): tf.layers.Layer {
  return tf.layers.reLU({ maxValue: 6 });
}

function bnLayerOf(): tf.layers.Layer {
  return tf.layers.batchNormalization({ axis: -1, epsilon: BN_EPSILON, momentum: 0.9 });
}

function bnLayer(
  add: <L extends tf.layers.Layer>(layer: L, weights: tf.Tensor[]) => L,
  bn: BatchNormParams,
): tf.layers.Layer {
  return add(bnLayerOf(), [bn.gamma, bn.beta, bn.runningMean, bn.runningVariance]);
}

/** A [cIn, cOut] matrix as a 1x1 conv kernel [1, 1, cIn, cOut] (a new tensor). */
function as1x1(w: tf.Variable): tf.Tensor {
  return tf.reshape(w, [1, 1, w.shape[0], w.shape[1] as number]);
}

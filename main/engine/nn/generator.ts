/**
 * The architecture generator (method.md section 6): a small fully convolutional
 * network that maps a prior architecture and a target cost to architecture
 * parameters alpha, alpha = G(prior, target).
 *
 * Both inputs are maps of alpha's own shape, layers x (6 sub-blocks * 4 ops):
 * the prior one-hot as 1 channel, the normalised target broadcast to 10
 * channels. Every conv is 3x3, stride 1, padding 1, 32 channels wide, so the
 * output keeps the input's shape whatever the number of layers; the parameter
 * count (67,969) does not depend on it.
 *
 *   target [B,L,24,10] -> conv,relu x3 --+
 *                                         +-> z -> head conv,relu -> 3 body conv,relu
 *   prior  [B,L,24,1]  -> conv,relu x2 --+                            |
 *                                         z --------------------------+-> add
 *                                                                          |
 *                                              final conv (bias) -> alpha [B,L,6,4]
 */
import * as tf from '@tensorflow/tfjs';

import { conv2d } from '../ops/index.js';
import { Rng } from '../rng.js';
import { skipMask } from '../space/decode.js';
import {
  DEFAULT_SPACE_OPTIONS,
  MAX_EXPANSION,
  SUB_BLOCK_OPS,
  type SpaceOptions,
} from '../space/types.js';
import {
  CheckpointError,
  ParamStore,
  readTensorBundle,
  writeTensorBundle,
  type NamedArray,
  type Param,
} from './params.js';

/** Channels of every hidden conv (the paper's setting). */
export const GENERATOR_WIDTH = 32;

/** Channels the scalar target is broadcast to. */
export const TARGET_CHANNELS = 10;

/** Convs of the target branch and of the prior branch. */
const TARGET_CONVS = 3;
const PRIOR_CONVS = 2;

/** Convs after the head conv whose output z is added back. */
const BODY_CONVS = 3;

/** Kernel size of every conv. */
const KERNEL = 3;

/** Alpha entries per layer: sub-blocks x ops. */
export const ALPHA_WIDTH = MAX_EXPANSION * SUB_BLOCK_OPS.length;

/** Name of the tensor bundle the generator saves (generator.bin + generator.json). */
export const GENERATOR_BUNDLE = 'generator';

/** The logit given to choices that must never be taken (skip below minExpansion). */
export const MASKED_LOGIT = -1e9;

/** Names and shapes of the generator's parameters, in a fixed order. */
function parameterShapes(): Array<[string, number[]]> {
  const shapes: Array<[string, number[]]> = [];
  const w = GENERATOR_WIDTH;

  for (let i = 0; i < TARGET_CONVS; i++) {
    shapes.push([`target.${i}`, [KERNEL, KERNEL, i === 0 ? TARGET_CHANNELS : w, w]]);
  }
  for (let i = 0; i < PRIOR_CONVS; i++) {
    shapes.push([`prior.${i}`, [KERNEL, KERNEL, i === 0 ? 1 : w, w]]);
  }
  shapes.push(['head', [KERNEL, KERNEL, w, w]]);
  for (let i = 0; i < BODY_CONVS; i++) shapes.push([`body.${i}`, [KERNEL, KERNEL, w, w]]);
  shapes.push(['out.weight', [KERNEL, KERNEL, w, 1]]);
  shapes.push(['out.bias', [1]]);

  return shapes;
}

/**
 * Seeded initial values: He normal (fan-in) for the convs followed by ReLU, a
 * smaller LeCun normal for the output conv so the first alphas are mild, and
 * a zero bias.
 */
function createParameter(store: ParamStore, name: string, shape: number[]): void {
  if (name === 'out.bias') {
    store.constant(name, shape, 0, 'bias');
    return;
  }
  const fanIn = shape[0] * shape[1] * shape[2];
  const gain = name === 'out.weight' ? 1 : 2;
  store.normal(name, shape, Math.sqrt(gain / fanIn), 'conv');
}

/**
 * Maps targets in MFLOPs to [0, 1] over the constraint interval, the scale
 * the generator is fed (method.md section 6). Values outside the interval map
 * outside [0, 1]; callers that need a range check do it before.
 */
export function normalizeTargets(
  targetsM: readonly number[],
  constraint: { lowM: number; highM: number },
): Float32Array {
  const span = constraint.highM - constraint.lowM;
  if (!(span > 0)) {
    throw new RangeError(
      `constraint interval must have lowM < highM, got [${constraint.lowM}, ` +
        `${constraint.highM}]`,
    );
  }
  return Float32Array.from(targetsM, (t) => (t - constraint.lowM) / span);
}

/**
 * The architecture generator G(prior, target) -> alpha.
 *
 * ```ts
 * const generator = new ArchitectureGenerator(preset.layers.length, 7);
 * const alpha = generator.forward(priorBatch, normalizedTargets); // [B, L, 6, 4]
 * ```
 */
export class ArchitectureGenerator {
  readonly numLayers: number;
  readonly options: SpaceOptions;
  /** The weights, by logical name ('target.0', 'body.2', 'out.bias', ...). */
  readonly store: ParamStore;
  private readonly keep: tf.Tensor;
  private readonly maskBias: tf.Tensor;

  /**
   * @param numLayers searchable layers of the space (alpha's L).
   * @param seed seeds the initial weights, so equal seeds give equal generators.
   * @param options minExpansion decides which skip logits are masked.
   * @throws RangeError when numLayers is not a positive integer.
   */
  constructor(numLayers: number, seed: number, options: SpaceOptions = DEFAULT_SPACE_OPTIONS) {
    if (!Number.isInteger(numLayers) || numLayers < 1) {
      throw new RangeError(`numLayers must be a positive integer, got ${numLayers}`);
    }
    this.numLayers = numLayers;
    this.options = { ...options };

    this.store = new ParamStore(new Rng(seed), 'generator');
    for (const [name, shape] of parameterShapes()) createParameter(this.store, name, shape);

    // Forbidden logits are replaced, not just shifted, so no gradient reaches them.
    const mask = skipMask(numLayers, this.options);
    const shape = [numLayers, MAX_EXPANSION, SUB_BLOCK_OPS.length];
    this.keep = tf.tensor(mask.map((m) => 1 - m), shape);
    this.maskBias = tf.tensor(mask.map((m) => m * MASKED_LOGIT), shape);
  }

  /** The trainable weights, in a fixed order (for the optimiser). */
  get trainables(): Param[] {
    return this.store.trainables();
  }

  /** Number of trainable scalars (67,969 with the paper's widths). */
  parameterCount(): number {
    return this.store.trainableCount();
  }

  /**
   * Runs the generator.
   *
   * @param prior one-hot prior(s): [L, 24] shared by the batch, or [B, L, 24]
   *   (also accepted with alpha's shape [.., L, 6, 4]).
   * @param targets normalised targets, [B] (see normalizeTargets).
   * @returns alpha [B, L, 6, 4] with the forbidden skip logits at MASKED_LOGIT.
   * @throws RangeError when the prior's layers or batch do not match.
   */
  forward(prior: tf.Tensor, targets: tf.Tensor1D): tf.Tensor4D {
    const batch = targets.shape[0];
    const L = this.numLayers;

    return tf.tidy(() => {
      const priorMap = this.priorMap(prior, batch);
      const targetMap = tf.tile(
        tf.reshape(targets, [batch, 1, 1, 1]),
        [1, L, ALPHA_WIDTH, TARGET_CHANNELS],
      );

      const t = this.chain(targetMap, 'target', TARGET_CONVS);
      const p = this.chain(priorMap, 'prior', PRIOR_CONVS);
      const z = tf.add(t, p);

      let h = this.convRelu(z, 'head');
      h = this.chain(h, 'body', BODY_CONVS);
      h = tf.add(h, z);

      const out = tf.add(conv2d(h as tf.Tensor4D, this.param('out.weight') as tf.Tensor4D, 1),
        this.param('out.bias'));
      const raw = tf.reshape(out, [batch, L, MAX_EXPANSION, SUB_BLOCK_OPS.length]);
      return tf.add(tf.mul(raw, this.keep), this.maskBias) as tf.Tensor4D;
    });
  }

  /** The weights as plain arrays, in a fixed order. */
  exportWeights(): NamedArray[] {
    return this.store.toArrays();
  }

  /**
   * Overwrites the weights from exportWeights() output.
   *
   * @param source where the arrays came from, for error messages.
   * @throws CheckpointError naming a missing, unexpected or misshapen weight.
   */
  importWeights(weights: NamedArray[], source = 'generator weights'): void {
    this.store.fromArrays(weights, source);
  }

  /**
   * Saves the weights as the tensor bundle 'generator' in `dir` (written to
   * temporary files and renamed, with a sha256 of the data).
   */
  async save(dir: string): Promise<void> {
    await writeTensorBundle(dir, GENERATOR_BUNDLE, this.exportWeights(), {
      numLayers: this.numLayers,
      options: this.options,
    });
  }

  /**
   * Loads weights saved by save() from `dir`.
   *
   * @throws CheckpointError when the bundle is missing or corrupt (checksum),
   *   or was made for a different number of layers or minimum expansion.
   */
  async load(dir: string): Promise<void> {
    const bundle = await readTensorBundle(dir, GENERATOR_BUNDLE);
    const meta = (bundle.meta ?? {}) as { numLayers?: number; options?: SpaceOptions };
    const where = `${dir}/${GENERATOR_BUNDLE}.json`;
    if (meta.numLayers !== this.numLayers) {
      throw new CheckpointError(
        where,
        `${where} holds a generator for ${meta.numLayers} layers, this one has ` +
          `${this.numLayers}: build the generator for the preset it was trained on`,
      );
    }
    if (meta.options?.minExpansion !== this.options.minExpansion) {
      throw new CheckpointError(
        where,
        `${where} was trained with minExpansion ${meta.options?.minExpansion}, this ` +
          `generator masks below ${this.options.minExpansion}: use the same space options`,
      );
    }
    this.importWeights(bundle.tensors, where);
  }

  /** Releases the weights and masks. */
  dispose(): void {
    this.store.dispose();
    this.keep.dispose();
    this.maskBias.dispose();
  }

  private param(name: string): tf.Variable {
    return this.store.get(name);
  }

  private convRelu(x: tf.Tensor, name: string): tf.Tensor4D {
    return tf.relu(conv2d(x as tf.Tensor4D, this.param(name) as tf.Tensor4D, 1));
  }

  private chain(x: tf.Tensor, prefix: string, count: number): tf.Tensor4D {
    let h = x as tf.Tensor4D;
    for (let i = 0; i < count; i++) h = this.convRelu(h, `${prefix}.${i}`);
    return h;
  }

  private priorMap(prior: tf.Tensor, batch: number): tf.Tensor4D {
    const L = this.numLayers;
    const perSample = prior.size / (L * ALPHA_WIDTH);
    if (!Number.isInteger(perSample) || (perSample !== 1 && perSample !== batch)) {
      throw new RangeError(
        `prior has shape [${prior.shape}]: expected [${L}, ${ALPHA_WIDTH}] or ` +
          `[${batch}, ${L}, ${ALPHA_WIDTH}] for ${L} layers and ${batch} targets`,
      );
    }

    const map = tf.reshape(prior, [perSample, L, ALPHA_WIDTH, 1]);
    return (perSample === batch ? map : tf.tile(map, [batch, 1, 1, 1])) as tf.Tensor4D;
  }
}


/**
 * Which gradient path the engine's ops take on the current tfjs backend.
 */
import * as tf from '@tensorflow/tfjs';

/**
 * True on native TensorFlow ('tensorflow' in tfjs, from tfjs-node or
 * tfjs-node-gpu), whose backprop kernels are complete and fast, so the ops
 * use tfjs's own gradients there. Elsewhere (wasm, cpu) they use custom
 * gradients built from forward ops, because wasm lacks the conv backprop
 * kernels. Read from tfjs at call time so `tf.setBackend` is honoured.
 */
export function usesTfGradients(): boolean {
  return tf.getBackend() === 'tensorflow';
}

/**
 * Which gradients an op with a hand-built gradient computes in a backward
 * pass. tfjs runs a custom gradient function whole, so a gradient nobody
 * needs (the filter of a frozen supernet, the input of the stem, which is
 * data) would otherwise be computed and thrown away.
 */
export interface OpGradients {
  /** Gradient with respect to the input (the activations). */
  input: boolean;
  /** Gradient with respect to the filter or weight. */
  filter: boolean;
}

/** Both gradients: what training needs. */
export const ALL_GRADIENTS: Readonly<OpGradients> = Object.freeze({ input: true, filter: true });

/** Frozen weights: only the input gradient (the generator's weighted forward). */
export const INPUT_GRADIENT_ONLY: Readonly<OpGradients> = Object.freeze({
  input: true,
  filter: false,
});

/** Input that is data: only the filter gradient (the stem conv in training). */
export const FILTER_GRADIENT_ONLY: Readonly<OpGradients> = Object.freeze({
  input: false,
  filter: true,
});

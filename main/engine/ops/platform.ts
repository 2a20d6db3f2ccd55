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

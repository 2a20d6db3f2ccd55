/**
 * Matrix product with a hand-built gradient. On wasm and cpu the product and
 * both gradients are the engine's own kernels (kernels/matmul.c); elsewhere
 * (no engine kernels) the gradient transposes explicitly, because tfjs's own
 * MatMul gradient passes transposeA/transposeB, which the wasm backend runs
 * about 10x slower than a transpose followed by a plain product.
 */
import * as tf from '@tensorflow/tfjs';

import {
  matMulGradInputKernel,
  matMulGradWeightKernel,
  matMulKernel,
} from './kernels/matMulKernels.js';
import { hasEngineKernels } from './kernels/wasmModule.js';
import { ALL_GRADIENTS, usesTfGradients, type OpGradients } from './platform.js';

/** The product and its two gradients, by the fastest route on this backend. */
function parts() {
  if (hasEngineKernels()) {
    return { product: matMulKernel, gradA: matMulGradInputKernel, gradB: matMulGradWeightKernel };
  }
  return {
    product: (a: tf.Tensor2D, b: tf.Tensor2D) => tf.matMul(a, b),
    gradA: (dy: tf.Tensor2D, b: tf.Tensor2D) => tf.matMul(dy, tf.transpose(b)),
    gradB: (a: tf.Tensor2D, dy: tf.Tensor2D) => tf.matMul(tf.transpose(a), dy),
  };
}

/**
 * `a` [M,K] times `b` [K,N] -> [M,N], differentiable in both arguments, or
 * in the one `grads` asks for.
 *
 * @param a Left matrix, e.g. activations flattened to rows.
 * @param b Right matrix, e.g. a weight.
 * @param grads which gradients a backward pass computes: `input` is a's,
 *   `filter` is b's. A frozen weight (filter: false) saves a product per
 *   backward pass; an unused gradient is never computed.
 * @returns The product, float32.
 */
export function matMul(
  a: tf.Tensor2D,
  b: tf.Tensor2D,
  grads: Readonly<OpGradients> = ALL_GRADIENTS,
): tf.Tensor2D {
  if (usesTfGradients()) return tf.matMul(a, b);
  const { product, gradA, gradB } = parts();

  if (!grads.filter || !grads.input) {
    // The operand without a gradient is closed over, so the tape never asks for it.
    const [wrt, other] = grads.input ? [a, b] : [b, a];
    const one = tf.customGrad((vIn, save) => {
      const v = vIn as tf.Tensor2D;
      (save as tf.GradSaveFunc)([other]);
      const value = grads.input ? product(v, other) : product(other, v);
      return {
        value,
        gradFunc: (dy, saved) => {
          const [so] = saved as tf.Tensor2D[];
          const dy2 = dy as tf.Tensor2D;
          if (!grads.input && !grads.filter) throw noGradient('matMul');
          return grads.input ? tf.tidy(() => gradA(dy2, so)) : tf.tidy(() => gradB(so, dy2));
        },
      };
    });
    return one(wrt) as tf.Tensor2D;
  }

  const op = tf.customGrad((aIn, bIn, save) => {
    const a2 = aIn as tf.Tensor2D;
    const b2 = bIn as tf.Tensor2D;
    (save as tf.GradSaveFunc)([a2, b2]);

    return {
      value: product(a2, b2),
      gradFunc: (dy, saved) => {
        const [sa, sb] = saved as tf.Tensor2D[];
        const dy2 = dy as tf.Tensor2D;
        return [tf.tidy(() => gradA(dy2, sb)), tf.tidy(() => gradB(sa, dy2))];
      },
    };
  });

  return op(a, b) as tf.Tensor2D;
}

/** The error of a backward pass through an op built without gradients. */
export function noGradient(op: string): Error {
  return new Error(
    `${op}: a gradient was requested through an op built with grads { input: false, ` +
      'filter: false }; build it with the gradient you need',
  );
}

/**
 * Matrix product with a gradient that transposes explicitly: tfjs's own MatMul
 * gradient passes transposeA/transposeB, which the wasm backend runs about 10x
 * slower than a transpose followed by a plain product.
 */
import * as tf from '@tensorflow/tfjs';

import { usesTfGradients } from './platform.js';

/**
 * `a` [M,K] times `b` [K,N] -> [M,N], differentiable in both arguments.
 *
 * @param a Left matrix, e.g. activations flattened to rows.
 * @param b Right matrix, e.g. a weight.
 * @returns The product, float32.
 */
export function matMul(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  if (usesTfGradients()) return tf.matMul(a, b);

  const op = tf.customGrad((aIn, bIn, save) => {
    const a2 = aIn as tf.Tensor2D;
    const b2 = bIn as tf.Tensor2D;
    (save as tf.GradSaveFunc)([a2, b2]);

    return {
      value: tf.matMul(a2, b2),
      gradFunc: (dy, saved) => {
        const [sa, sb] = saved as tf.Tensor2D[];
        const dy2 = dy as tf.Tensor2D;
        return [
          tf.tidy(() => tf.matMul(dy2, tf.transpose(sb))),
          tf.tidy(() => tf.matMul(tf.transpose(sa), dy2)),
        ];
      },
    };
  });

  return op(a, b) as tf.Tensor2D;
}

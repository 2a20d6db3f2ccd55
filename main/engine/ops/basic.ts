/**
 * The small ops around the convolutions: activation, pooling and the
 * classifier's dense layer.
 */
import * as tf from '@tensorflow/tfjs';

import { matMul } from './matmul.js';

/** min(max(x, 0), 6), elementwise. */
export function relu6<T extends tf.Tensor>(x: T): T {
  return tf.relu6(x);
}

/**
 * Mean over the spatial axes.
 *
 * @param x [N,H,W,C].
 * @returns [N,C].
 */
export function globalAvgPool(x: tf.Tensor4D): tf.Tensor2D {
  if (x.rank !== 4) {
    throw new Error(`globalAvgPool: input [${x.shape}] must be [N,H,W,C].`);
  }
  return tf.mean(x, [1, 2]) as tf.Tensor2D;
}

/**
 * Fully connected layer, x w + b.
 *
 * @param x [N,F].
 * @param w [F,O].
 * @param b [O].
 * @returns [N,O].
 * @throws Error when the shapes do not chain.
 */
export function dense(x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D): tf.Tensor2D {
  if (x.rank !== 2 || w.rank !== 2 || w.shape[0] !== x.shape[1] || b.shape[0] !== w.shape[1]) {
    throw new Error(
      `dense: shapes do not chain: x [${x.shape}], w [${w.shape}], b [${b.shape}]; ` +
        'expected [N,F], [F,O], [O].',
    );
  }
  return tf.tidy(() => tf.add(matMul(x, w), b));
}

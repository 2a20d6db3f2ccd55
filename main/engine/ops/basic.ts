/**
 * The small ops around the convolutions: activation, pooling and the
 * classifier's dense layer.
 */
import * as tf from '@tensorflow/tfjs';

import { matMul } from './matmul.js';
import { usesTfGradients } from './platform.js';

/**
 * min(max(x, 0), 6), elementwise; the gradient passes where 0 < x <= 6, as
 * tfjs's own. On wasm the gradient is built from two step functions:
 * tfjs's Relu6 gradient compares with LessEqual, which wasm ran about 8x
 * slower than Step at [128,7,7,96] (19 ms against 2.5 ms).
 */
export function relu6<T extends tf.Tensor>(x: T): T {
  if (usesTfGradients()) return tf.relu6(x);

  const op = tf.customGrad((xIn, save) => {
    (save as tf.GradSaveFunc)([xIn as tf.Tensor]);
    return {
      value: tf.relu6(xIn as tf.Tensor),
      gradFunc: (dy, saved) => {
        const [sx] = saved as tf.Tensor[];
        return tf.tidy(() => tf.mul(dy, tf.sub(tf.step(sx), tf.step(tf.sub(sx, 6)))));
      },
    };
  });
  return op(x) as T;
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

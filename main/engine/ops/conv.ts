/**
 * The engine's convolutions, NHWC float32, with PyTorch-style symmetric
 * padding of k//2 (so an odd k x k kernel at stride s gives ceil(H / s) rows).
 *
 * On wasm and cpu their gradients are built from forward kernels only: the wasm
 * backend has no Conv2DBackpropFilter, DepthwiseConv2dNativeBackpropInput or
 * DepthwiseConv2dNativeBackpropFilter kernels. On native TensorFlow the ops are
 * tfjs's own, with tfjs's own gradients.
 */
import * as tf from '@tensorflow/tfjs';

import { matMul } from './matmul.js';
import { usesTfGradients } from './platform.js';

/** The depthwise kernel sizes of the paper's sub-blocks. */
export const KERNEL_SIZES = [3, 5, 7] as const;

type Stride = 1 | 2;
type Padding4D = [[number, number], [number, number], [number, number], [number, number]];

/**
 * Pointwise (1x1) convolution as a matrix product.
 *
 * @param x Input [N,H,W,Cin].
 * @param w Weight [Cin,Cout].
 * @returns [N,H,W,Cout].
 * @throws Error when the channel counts disagree.
 */
export function conv1x1(x: tf.Tensor4D, w: tf.Tensor2D): tf.Tensor4D {
  const [n, h, wd, cin] = x.shape;
  if (w.rank !== 2 || w.shape[0] !== cin) {
    throw new Error(
      `conv1x1: weight shape [${w.shape}] does not fit input [${x.shape}]; ` +
        `expected [${cin}, Cout].`,
    );
  }

  return tf.tidy(() => {
    const rows = tf.reshape(x, [n * h * wd, cin]) as tf.Tensor2D;
    return tf.reshape(matMul(rows, w), [n, h, wd, w.shape[1]]) as tf.Tensor4D;
  });
}

/**
 * Depthwise k x k convolution, padding k//2 on every side.
 *
 * @param x Input [N,H,W,C].
 * @param w Filter [k,k,C,1], k odd.
 * @param stride 1 or 2.
 * @returns [N, ceil(H/stride), ceil(W/stride), C].
 * @throws Error on an even or non-square kernel, a channel mismatch, a channel
 *   multiplier other than 1, or a stride other than 1 or 2.
 */
export function depthwiseConv(x: tf.Tensor4D, w: tf.Tensor4D, stride: Stride): tf.Tensor4D {
  const k = checkKernel('depthwiseConv', x, w, stride);
  if (w.shape[3] !== 1) {
    throw new Error(
      `depthwiseConv: filter [${w.shape}] has channel multiplier ${w.shape[3]}; ` +
        `expected [${k}, ${k}, ${x.shape[3]}, 1].`,
    );
  }
  const pad = symmetricPad(k);

  if (usesTfGradients()) {
    return tf.tidy(() => tf.depthwiseConv2d(tf.pad(x, pad), w, stride, 'valid'));
  }

  const op = tf.customGrad((xIn, wIn, save) => {
    const x4 = xIn as tf.Tensor4D;
    const w4 = wIn as tf.Tensor4D;
    (save as tf.GradSaveFunc)([x4, w4]);

    return {
      value: tf.depthwiseConv2d(x4, w4, stride, pad),
      gradFunc: (dy, saved) => {
        const [sx, sw] = saved as tf.Tensor4D[];
        const dy4 = dy as tf.Tensor4D;
        return [
          tf.tidy(() => depthwiseGradInput(dy4, sw, sx.shape, stride)),
          tf.tidy(() => depthwiseGradFilter(sx, dy4, k, stride)),
        ];
      },
    };
  });

  return op(x, w) as tf.Tensor4D;
}

/**
 * Full k x k convolution, padding k//2 on every side (the stem, and the
 * generator's 3x3 convs).
 *
 * @param x Input [N,H,W,Cin].
 * @param w Filter [k,k,Cin,Cout], k odd.
 * @param stride 1 or 2.
 * @returns [N, ceil(H/stride), ceil(W/stride), Cout].
 * @throws Error on an even or non-square kernel, a channel mismatch or a
 *   stride other than 1 or 2.
 */
export function conv2d(x: tf.Tensor4D, w: tf.Tensor4D, stride: Stride): tf.Tensor4D {
  const k = checkKernel('conv2d', x, w, stride);
  const pad = symmetricPad(k);

  if (usesTfGradients()) {
    return tf.tidy(() => tf.conv2d(tf.pad(x, pad), w, stride, 'valid'));
  }

  const op = tf.customGrad((xIn, wIn, save) => {
    const x4 = xIn as tf.Tensor4D;
    const w4 = wIn as tf.Tensor4D;
    (save as tf.GradSaveFunc)([x4, w4]);

    return {
      value: tf.conv2d(x4, w4, stride, pad),
      gradFunc: (dy, saved) => {
        const [sx, sw] = saved as tf.Tensor4D[];
        const dy4 = dy as tf.Tensor4D;
        return [
          // wasm has Conv2DBackpropInput; only the filter gradient is missing.
          tf.tidy(() => tf.conv2dTranspose(dy4, sw, sx.shape, stride, pad)),
          tf.tidy(() => conv2dGradFilter(sx, dy4, k, stride)),
        ];
      },
    };
  });

  return op(x, w) as tf.Tensor4D;
}

/**
 * Gradient of a depthwise conv with respect to its input: a correlation of
 * dy (zero-dilated when the stride is 2) with the kernel rotated by 180 degrees.
 */
function depthwiseGradInput(
  dy: tf.Tensor4D,
  w: tf.Tensor4D,
  xShape: [number, number, number, number],
  stride: Stride,
): tf.Tensor4D {
  const k = w.shape[0];
  const p = (k - 1) / 2;
  const flipped = tf.reverse(w, [0, 1]) as tf.Tensor4D;

  if (stride === 1) return tf.depthwiseConv2d(dy, flipped, 1, symmetricPad(k));

  const [n, ho, wo, c] = dy.shape;
  const [, h, wd] = xShape;
  const dilated = tf.reshape(
    tf.pad(tf.reshape(dy, [n * ho, 1, wo, 1, c]), [[0, 0], [0, 1], [0, 0], [0, 1], [0, 0]]),
    [n, 2 * ho, 2 * wo, c],
  ) as tf.Tensor4D;

  // The dilated map has 2*ho rows; pad so that a valid k x k pass gives h rows.
  const pad: Padding4D = [[0, 0], [p, h + p - 2 * ho], [p, wd + p - 2 * wo], [0, 0]];
  return tf.depthwiseConv2d(dilated, flipped, 1, pad);
}

/**
 * Gradient of a depthwise conv with respect to its filter: for each tap (i,j),
 * the per-channel sum of dy times the input shifted by (i,j) and strided.
 */
function depthwiseGradFilter(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  k: number,
  stride: Stride,
): tf.Tensor4D {
  const [n, , , c] = x.shape;
  const [, ho, wo] = dy.shape;
  const padded = tf.pad(x, symmetricPad(k));
  const taps: tf.Tensor1D[] = [];

  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) {
      const shifted = tf.stridedSlice(
        padded,
        [0, i, j, 0],
        [n, i + stride * (ho - 1) + 1, j + stride * (wo - 1) + 1, c],
        [1, stride, stride, 1],
      );
      taps.push(tf.sum(tf.mul(shifted, dy), [0, 1, 2]) as tf.Tensor1D);
    }
  }

  return tf.reshape(tf.stack(taps), [k, k, c, 1]) as tf.Tensor4D;
}

/**
 * Gradient of a full conv with respect to its filter: the im2col patches of
 * the input, transposed, times dy.
 */
function conv2dGradFilter(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  k: number,
  stride: Stride,
): tf.Tensor4D {
  const [n, , , cin] = x.shape;
  const [, ho, wo, cout] = dy.shape;
  const padded = tf.pad(x, symmetricPad(k));
  const taps: tf.Tensor4D[] = [];

  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) {
      taps.push(
        tf.stridedSlice(
          padded,
          [0, i, j, 0],
          [n, i + stride * (ho - 1) + 1, j + stride * (wo - 1) + 1, cin],
          [1, stride, stride, 1],
        ) as tf.Tensor4D,
      );
    }
  }

  const patches = tf.reshape(tf.concat(taps, 3), [n * ho * wo, k * k * cin]);
  const rows = tf.reshape(dy, [n * ho * wo, cout]);
  return tf.reshape(tf.matMul(tf.transpose(patches), rows), [k, k, cin, cout]) as tf.Tensor4D;
}

function checkKernel(op: string, x: tf.Tensor4D, w: tf.Tensor4D, stride: number): number {
  if (x.rank !== 4 || w.rank !== 4) {
    throw new Error(
      `${op}: expected a rank-4 input and filter, got input [${x.shape}] and filter ` +
        `[${w.shape}].`,
    );
  }

  const k = w.shape[0];
  if (w.shape[1] !== k || k % 2 !== 1) {
    throw new Error(
      `${op}: filter [${w.shape}] is not an odd square kernel; symmetric k//2 ` +
        'padding needs k = 1, 3, 5, 7, ...',
    );
  }

  if (w.shape[2] !== x.shape[3]) {
    throw new Error(
      `${op}: filter [${w.shape}] expects ${w.shape[2]} input channels but the input ` +
        `[${x.shape}] has ${x.shape[3]}.`,
    );
  }

  if (stride !== 1 && stride !== 2) {
    throw new Error(`${op}: stride ${stride} is not supported; use 1 or 2.`);
  }

  return k;
}

function symmetricPad(k: number): Padding4D {
  const p = Math.floor(k / 2);
  return [[0, 0], [p, p], [p, p], [0, 0]];
}

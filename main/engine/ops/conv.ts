/**
 * The engine's convolutions, NHWC float32, with PyTorch-style symmetric
 * padding of k//2 (so an odd k x k kernel at stride s gives ceil(H / s) rows).
 *
 * The wasm backend has no Conv2DBackpropFilter, DepthwiseConv2dNativeBackpropInput
 * or DepthwiseConv2dNativeBackpropFilter kernels. On wasm and cpu the depthwise
 * conv and both its gradients are the engine's own kernels (kernels/depthwise.c),
 * and the full conv's gradients are built from forward convs. On native
 * TensorFlow the ops are tfjs's own, with tfjs's own gradients.
 */
import * as tf from '@tensorflow/tfjs';

import {
  depthwiseForwardKernel,
  depthwiseGradFilterKernel,
  depthwiseGradInputKernel,
  MAX_KERNEL_SIZE,
} from './kernels/depthwiseKernels.js';
import { matMul, noGradient } from './matmul.js';
import { ALL_GRADIENTS, usesTfGradients, type OpGradients } from './platform.js';

/** The depthwise kernel sizes of the paper's sub-blocks. */
export const KERNEL_SIZES = [3, 5, 7] as const;

type Stride = 1 | 2;
type Padding4D = [[number, number], [number, number], [number, number], [number, number]];

/**
 * Pointwise (1x1) convolution as a matrix product.
 *
 * @param x Input [N,H,W,Cin].
 * @param w Weight [Cin,Cout].
 * @param grads which gradients a backward pass computes (both by default).
 * @returns [N,H,W,Cout].
 * @throws Error when the channel counts disagree.
 */
export function conv1x1(
  x: tf.Tensor4D,
  w: tf.Tensor2D,
  grads: Readonly<OpGradients> = ALL_GRADIENTS,
): tf.Tensor4D {
  const [n, h, wd, cin] = x.shape;
  if (w.rank !== 2 || w.shape[0] !== cin) {
    throw new Error(
      `conv1x1: weight shape [${w.shape}] does not fit input [${x.shape}]; ` +
        `expected [${cin}, Cout].`,
    );
  }

  return tf.tidy(() => {
    const rows = tf.reshape(x, [n * h * wd, cin]) as tf.Tensor2D;
    return tf.reshape(matMul(rows, w, grads), [n, h, wd, w.shape[1]]) as tf.Tensor4D;
  });
}

/**
 * Depthwise k x k convolution, padding k//2 on every side.
 *
 * @param x Input [N,H,W,C].
 * @param w Filter [k,k,C,1], k odd and at least 3.
 * @param stride 1 or 2.
 * @param grads which gradients a backward pass computes (both by default).
 * @returns [N, ceil(H/stride), ceil(W/stride), C].
 * @throws Error on an even or non-square kernel, a channel mismatch, a channel
 *   multiplier other than 1, a stride other than 1 or 2, or (on wasm and cpu)
 *   a kernel larger than 15x15.
 */
export function depthwiseConv(
  x: tf.Tensor4D,
  w: tf.Tensor4D,
  stride: Stride,
  grads: Readonly<OpGradients> = ALL_GRADIENTS,
): tf.Tensor4D {
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

  if (k > MAX_KERNEL_SIZE) {
    throw new Error(
      `depthwiseConv: a ${k}x${k} kernel is larger than the engine's kernels take on ` +
        `${tf.getBackend()} (up to ${MAX_KERNEL_SIZE}x${MAX_KERNEL_SIZE}); use k of 3 to ` +
        `${MAX_KERNEL_SIZE}, or a native TensorFlow backend`,
    );
  }

  return withGradients('depthwiseConv', x, w, grads, {
    // tfjs-wasm's own 3x3 forward (XNNPACK) beat ours 2x; ours wins at 5x5 and 7x7.
    forward: (xs, ws) =>
      k === 3 ? tf.depthwiseConv2d(xs, ws, stride, pad) : depthwiseForwardKernel(xs, ws, stride),
    gradInput: (dy, ws) => depthwiseGradInputKernel(dy, ws, x.shape, stride),
    gradFilter: (dy, xs) => depthwiseGradFilterKernel(xs, dy, k, stride),
  });
}

/**
 * Full k x k convolution, padding k//2 on every side (the stem, and the
 * generator's 3x3 convs).
 *
 * @param x Input [N,H,W,Cin].
 * @param w Filter [k,k,Cin,Cout], k odd and at least 3.
 * @param stride 1 or 2.
 * @param grads which gradients a backward pass computes (both by default;
 *   the supernet's stem, whose input is data, needs only the filter's).
 * @returns [N, ceil(H/stride), ceil(W/stride), Cout].
 * @throws Error on an even or non-square kernel, a channel mismatch or a
 *   stride other than 1 or 2.
 */
export function conv2d(
  x: tf.Tensor4D,
  w: tf.Tensor4D,
  stride: Stride,
  grads: Readonly<OpGradients> = ALL_GRADIENTS,
): tf.Tensor4D {
  const k = checkKernel('conv2d', x, w, stride);
  const pad = symmetricPad(k);

  if (usesTfGradients()) {
    return tf.tidy(() => tf.conv2d(tf.pad(x, pad), w, stride, 'valid'));
  }

  return withGradients('conv2d', x, w, grads, {
    forward: (xs, ws) => tf.conv2d(xs, ws, stride, pad),
    gradInput: (dy, ws) => conv2dGradInput(dy, ws, x.shape, stride),
    gradFilter: (dy, xs) => conv2dGradFilter(xs, dy, k, stride),
  });
}

/** The forward and the two hand-built gradients of a conv. */
interface ConvParts {
  forward: (x: tf.Tensor4D, w: tf.Tensor4D) => tf.Tensor4D;
  gradInput: (dy: tf.Tensor4D, w: tf.Tensor4D) => tf.Tensor4D;
  gradFilter: (dy: tf.Tensor4D, x: tf.Tensor4D) => tf.Tensor4D;
}

/**
 * Wraps a conv in a custom gradient that computes only the gradients asked
 * for. A tensor without a gradient is closed over rather than passed as an
 * input, so the tape neither asks for its gradient nor expects one.
 */
function withGradients(
  op: string,
  x: tf.Tensor4D,
  w: tf.Tensor4D,
  grads: Readonly<OpGradients>,
  parts: ConvParts,
): tf.Tensor4D {
  if (grads.input && grads.filter) {
    const both = tf.customGrad((xIn, wIn, save) => {
      const x4 = xIn as tf.Tensor4D;
      const w4 = wIn as tf.Tensor4D;
      (save as tf.GradSaveFunc)([x4, w4]);
      return {
        value: parts.forward(x4, w4),
        gradFunc: (dy, saved) => {
          const [sx, sw] = saved as tf.Tensor4D[];
          const dy4 = dy as tf.Tensor4D;
          return [
            tf.tidy(() => parts.gradInput(dy4, sw)),
            tf.tidy(() => parts.gradFilter(dy4, sx)),
          ];
        },
      };
    });
    return both(x, w) as tf.Tensor4D;
  }

  // Only the tensor that needs a gradient is an input of the custom op.
  const wrtInput = grads.input;
  const one = tf.customGrad((vIn, save) => {
    const v = vIn as tf.Tensor4D;
    const other = wrtInput ? w : x;
    (save as tf.GradSaveFunc)([other]);
    return {
      value: wrtInput ? parts.forward(v, other) : parts.forward(other, v),
      gradFunc: (dy, saved) => {
        const [so] = saved as tf.Tensor4D[];
        const dy4 = dy as tf.Tensor4D;
        if (!grads.input && !grads.filter) throw noGradient(op);
        return tf.tidy(() => (wrtInput ? parts.gradInput(dy4, so) : parts.gradFilter(dy4, so)));
      },
    };
  });
  return one(wrtInput ? x : w) as tf.Tensor4D;
}

/**
 * Gradient of a full conv with respect to its input, as a forward conv of dy
 * (spread out with zeros at stride 2) with the kernel rotated by 180 degrees
 * and its channel axes swapped. wasm's Conv2DBackpropInput kernel gives the
 * same result but ran about 10x slower than this at [128,19,24,32], k = 3.
 */
function conv2dGradInput(
  dy: tf.Tensor4D,
  w: tf.Tensor4D,
  xShape: [number, number, number, number],
  stride: Stride,
): tf.Tensor4D {
  const k = w.shape[0];
  const turned = tf.transpose(tf.reverse(w, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D;

  if (stride === 1) return tf.conv2d(dy, turned, 1, symmetricPad(k));
  return tf.conv2d(spreadOut(dy), turned, 1, spreadPad(k, xShape, dy.shape));
}

/** [N,Ho,Wo,C] -> [N,2Ho,2Wo,C] with dy at even positions and zeros between. */
function spreadOut(dy: tf.Tensor4D): tf.Tensor4D {
  const [n, ho, wo, c] = dy.shape;
  const spread = tf.pad(tf.reshape(dy, [n * ho, 1, wo, 1, c]), [
    [0, 0], [0, 1], [0, 0], [0, 1], [0, 0],
  ]);
  return tf.reshape(spread, [n, 2 * ho, 2 * wo, c]) as tf.Tensor4D;
}

/**
 * Padding that makes a valid k x k pass over a spread-out dy (2*Ho rows) give
 * exactly the input's H rows (and likewise columns).
 */
function spreadPad(
  k: number,
  xShape: [number, number, number, number],
  dyShape: [number, number, number, number],
): Padding4D {
  const p = (k - 1) / 2;
  const [, h, wd] = xShape;
  const [, ho, wo] = dyShape;
  return [[0, 0], [p, h + p - 2 * ho], [p, wd + p - 2 * wo], [0, 0]];
}

/**
 * Gradient of a full conv with respect to its filter, as one forward conv with
 * batch and channels swapped: the padded input becomes Cin images whose N
 * channels are the batch, dy becomes a [Ho,Wo,N,Cout] filter dilated by the
 * stride, and the [Cin,k,k,Cout] result is the filter gradient transposed.
 */
function conv2dGradFilter(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  k: number,
  stride: Stride,
): tf.Tensor4D {
  const [, h, wd] = x.shape;
  const [, ho, wo] = dy.shape;
  const p = (k - 1) / 2;

  // Exactly the rows and columns the k x k taps reach: stride*(ho-1) + k.
  const hp = stride * (ho - 1) + k;
  const wp = stride * (wo - 1) + k;
  const padded = tf.pad(x, [[0, 0], [p, hp - h - p], [p, wp - wd - p], [0, 0]]);

  const images = tf.transpose(padded, [3, 1, 2, 0]) as tf.Tensor4D;
  const filter = tf.transpose(dy, [1, 2, 0, 3]) as tf.Tensor4D;
  const swapped = tf.conv2d(images, filter, 1, 'valid', 'NHWC', stride);
  return tf.transpose(swapped, [1, 2, 0, 3]);
}

function checkKernel(op: string, x: tf.Tensor4D, w: tf.Tensor4D, stride: number): number {
  if (x.rank !== 4 || w.rank !== 4) {
    throw new Error(
      `${op}: expected a rank-4 input and filter, got input [${x.shape}] and filter ` +
        `[${w.shape}].`,
    );
  }

  const k = w.shape[0];
  // k = 1 is excluded: conv1x1 serves it, and the stride-2 gradients assume k//2 >= 1.
  if (w.shape[1] !== k || k % 2 !== 1 || k < 3) {
    throw new Error(
      `${op}: filter [${w.shape}] is not an odd square kernel of size 3 or more; ` +
        'symmetric k//2 padding needs k = 3, 5, 7, ... (use conv1x1 for k = 1)',
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

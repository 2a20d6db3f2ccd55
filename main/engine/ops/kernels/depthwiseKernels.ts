/**
 * The engine's own depthwise convolution kernels (depthwise.c), registered
 * as tfjs kernels on the wasm and cpu backends. tfjs-wasm's depthwise conv
 * ran at 0.25-0.7 GMAC/s on the supernet's small feature maps, and its
 * gradients had to be assembled from forward convs with transposes; these
 * compute forward, input gradient and filter gradient directly, 3-6x faster
 * for a forward plus backward at the fmnist preset's shapes.
 */
import * as tf from '@tensorflow/tfjs';

import { KERNEL_BACKENDS, runKernel, type KernelName } from './wasmModule.js';

/** tfjs kernel names. */
export const DEPTHWISE_KERNELS = {
  forward: 'SgnasDepthwiseForward',
  gradInput: 'SgnasDepthwiseGradInput',
  gradFilter: 'SgnasDepthwiseGradFilter',
} as const;

interface Attrs {
  /** [n, h, w, c] of the convolution's input x. */
  xShape: number[];
  k: number;
  stride: number;
}

function shapes(a: Attrs): { x: number[]; y: number[]; w: number[] } {
  const [n, h, w, c] = a.xShape;
  return {
    x: [n, h, w, c],
    y: [n, Math.ceil(h / a.stride), Math.ceil(w / a.stride), c],
    w: [a.k, a.k, c, 1],
  };
}

/** Tap lists as long as depthwise.c's (MAX_TAPS ints each), two of them, then a row. */
const MAX_TAPS = 256;

/** The largest kernel the kernels take: k * k taps must fit one tap list. */
export const MAX_KERNEL_SIZE = 15;

function scratchFloats(channels: number): number {
  return 2 * MAX_TAPS + channels;
}

let registered = false;

/** Registers the three kernels on the wasm and cpu backends (once). */
function register(): void {
  if (registered) return;
  registered = true;

  const kernels: [string, KernelName, (a: Attrs) => number[]][] = [
    [DEPTHWISE_KERNELS.forward, 'depthwise_forward', (a) => shapes(a).y],
    [DEPTHWISE_KERNELS.gradInput, 'depthwise_grad_input', (a) => shapes(a).x],
    [DEPTHWISE_KERNELS.gradFilter, 'depthwise_grad_filter', (a) => shapes(a).w],
  ];
  for (const backendName of KERNEL_BACKENDS) {
    for (const [kernelName, fn, shapeOf] of kernels) {
      tf.registerKernel({
        kernelName,
        backendName,
        kernelFunc: ({ inputs, backend, attrs }) => {
          const a = attrs as unknown as Attrs;
          return runKernel(backend, fn, [inputs.a as tf.TensorInfo, inputs.b as tf.TensorInfo],
            [{ shape: shapeOf(a) }], scratchFloats(a.xShape[3]), [...a.xShape, a.k, a.stride])[0];
        },
      });
    }
  }
}

function run(kernel: string, a: tf.Tensor, b: tf.Tensor, attrs: Attrs): tf.Tensor4D {
  register();
  return tf.engine().runKernel(kernel, { a, b },
    attrs as unknown as tf.NamedAttrMap) as tf.Tensor4D;
}

/** Depthwise conv, padding k//2: x [N,H,W,C], w [k,k,C,1] -> [N,ceil(H/s),ceil(W/s),C]. */
export function depthwiseForwardKernel(x: tf.Tensor4D, w: tf.Tensor4D, stride: number) {
  return run(DEPTHWISE_KERNELS.forward, x, w, { xShape: x.shape, k: w.shape[0], stride });
}

/** The conv's gradient with respect to its input x of shape xShape. */
export function depthwiseGradInputKernel(
  dy: tf.Tensor4D,
  w: tf.Tensor4D,
  xShape: number[],
  stride: number,
) {
  return run(DEPTHWISE_KERNELS.gradInput, dy, w, { xShape, k: w.shape[0], stride });
}

/** The conv's gradient with respect to its k x k filter. */
export function depthwiseGradFilterKernel(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  k: number,
  stride: number,
) {
  return run(DEPTHWISE_KERNELS.gradFilter, x, dy, { xShape: x.shape, k, stride });
}

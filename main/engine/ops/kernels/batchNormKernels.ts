/**
 * Training-mode batch normalisation, optionally fused with ReLU6, as two
 * tfjs kernels on the wasm and cpu backends (batchnorm.c): one forward that
 * also returns the batch statistics, one backward for x, gamma and beta.
 */
import * as tf from '@tensorflow/tfjs';

import { KERNEL_BACKENDS, runKernel } from './wasmModule.js';

/** tfjs kernel names. */
export const BATCH_NORM_KERNELS = {
  forward: 'SgnasBatchNormForward',
  backward: 'SgnasBatchNormBackward',
  affine: 'SgnasAffineForward',
  affineBackward: 'SgnasAffineBackward',
} as const;

interface Attrs {
  /** Rows (every axis but the last, multiplied) and channels. */
  m: number;
  c: number;
  eps: number;
  /** 1: ReLU6 after the affine step; 0: none. */
  relu6: number;
  /** The shape of x (and y, dx). */
  shape: number[];
}

let registered = false;

function register(): void {
  if (registered) return;
  registered = true;

  for (const backendName of KERNEL_BACKENDS) {
    tf.registerKernel({
      kernelName: BATCH_NORM_KERNELS.forward,
      backendName,
      kernelFunc: ({ inputs, backend, attrs }) => {
        const { m, c, eps, relu6, shape } = attrs as unknown as Attrs;
        const ins = ['x', 'gamma', 'beta'].map((n) => inputs[n] as tf.TensorInfo);
        const perChannel = { shape: [c] };
        return runKernel(backend, 'batchnorm_forward', ins,
          [{ shape }, perChannel, perChannel, perChannel], 2 * c, [m, c, eps, relu6]);
      },
    });

    tf.registerKernel({
      kernelName: BATCH_NORM_KERNELS.backward,
      backendName,
      kernelFunc: ({ inputs, backend, attrs }) => {
        const { m, c, relu6, shape } = attrs as unknown as Attrs;
        const ins = ['dy', 'x', 'gamma', 'beta', 'mean', 'rstd']
          .map((n) => inputs[n] as tf.TensorInfo);
        const perChannel = { shape: [c] };
        return runKernel(backend, 'batchnorm_backward', ins,
          [{ shape }, perChannel, perChannel], 4 * c, [m, c, relu6]);
      },
    });

    tf.registerKernel({
      kernelName: BATCH_NORM_KERNELS.affine,
      backendName,
      kernelFunc: ({ inputs, backend, attrs }) => {
        const { m, c, relu6, shape } = attrs as unknown as Attrs;
        const ins = ['x', 'scale', 'shift'].map((n) => inputs[n] as tf.TensorInfo);
        return runKernel(backend, 'affine_forward', ins, [{ shape }], 0, [m, c, relu6])[0];
      },
    });

    tf.registerKernel({
      kernelName: BATCH_NORM_KERNELS.affineBackward,
      backendName,
      kernelFunc: ({ inputs, backend, attrs }) => {
        const { m, c, relu6, shape } = attrs as unknown as Attrs;
        const ins = ['dy', 'x', 'scale', 'shift'].map((n) => inputs[n] as tf.TensorInfo);
        return runKernel(backend, 'affine_backward', ins, [{ shape }], 0, [m, c, relu6])[0];
      },
    });
  }
}

/** y, the batch mean, the biased batch variance and 1/sqrt(variance + eps). */
export function batchNormForwardKernel(
  x: tf.Tensor,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  eps: number,
  relu6: boolean,
): [tf.Tensor, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D] {
  register();
  const c = x.shape[x.rank - 1];
  const attrs: Attrs = { m: x.size / c, c, eps, relu6: relu6 ? 1 : 0, shape: x.shape };
  return tf.engine().runKernel(BATCH_NORM_KERNELS.forward, { x, gamma, beta },
    attrs as unknown as tf.NamedAttrMap) as unknown as [
    tf.Tensor, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D,
  ];
}

/** dx, dgamma and dbeta of batchNormForwardKernel, from what its forward used. */
export function batchNormBackwardKernel(
  dy: tf.Tensor,
  saved: { x: tf.Tensor; gamma: tf.Tensor1D; beta: tf.Tensor1D; mean: tf.Tensor1D;
    rstd: tf.Tensor1D },
  relu6: boolean,
): [tf.Tensor, tf.Tensor1D, tf.Tensor1D] {
  register();
  const { x } = saved;
  const c = x.shape[x.rank - 1];
  const attrs: Attrs = { m: x.size / c, c, eps: 0, relu6: relu6 ? 1 : 0, shape: x.shape };
  return tf.engine().runKernel(BATCH_NORM_KERNELS.backward, { dy, ...saved },
    attrs as unknown as tf.NamedAttrMap) as unknown as [tf.Tensor, tf.Tensor1D, tf.Tensor1D];
}

function affineAttrs(x: tf.Tensor, relu6: boolean): Attrs {
  const c = x.shape[x.rank - 1];
  return { m: x.size / c, c, eps: 0, relu6: relu6 ? 1 : 0, shape: x.shape };
}

/** act(x * scale + shift) per channel: evaluation-mode BN, folded. */
export function affineKernel(
  x: tf.Tensor,
  scale: tf.Tensor1D,
  shift: tf.Tensor1D,
  relu6: boolean,
): tf.Tensor {
  register();
  return tf.engine().runKernel(BATCH_NORM_KERNELS.affine, { x, scale, shift },
    affineAttrs(x, relu6) as unknown as tf.NamedAttrMap) as tf.Tensor;
}

/** affineKernel's gradient with respect to x. */
export function affineBackwardKernel(
  dy: tf.Tensor,
  x: tf.Tensor,
  scale: tf.Tensor1D,
  shift: tf.Tensor1D,
  relu6: boolean,
): tf.Tensor {
  register();
  return tf.engine().runKernel(BATCH_NORM_KERNELS.affineBackward, { dy, x, scale, shift },
    affineAttrs(x, relu6) as unknown as tf.NamedAttrMap) as tf.Tensor;
}

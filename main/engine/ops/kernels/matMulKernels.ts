/**
 * The 1x1 convs' matrix product and its two gradients as tfjs kernels on the
 * wasm and cpu backends (matmul.c): no transposed copy of the activations
 * and no repacking of an operand per call, which together cost tfjs-wasm's
 * MatMul about as much as the product itself.
 */
import * as tf from '@tensorflow/tfjs';

import { KERNEL_BACKENDS, runKernel, type KernelName } from './wasmModule.js';

/** tfjs kernel names. */
export const MATMUL_KERNELS = {
  forward: 'SgnasMatMulForward',
  gradA: 'SgnasMatMulGradA',
  gradB: 'SgnasMatMulGradB',
} as const;

interface Attrs {
  m: number;
  k: number;
  n: number;
}

let registered = false;

function register(): void {
  if (registered) return;
  registered = true;

  const kernels: [string, KernelName, (a: Attrs) => number[], (a: Attrs) => number][] = [
    [MATMUL_KERNELS.forward, 'matmul_forward', (a) => [a.m, a.n], () => 0],
    [MATMUL_KERNELS.gradA, 'matmul_grad_a', (a) => [a.m, a.k], (a) => a.k * a.n],
    [MATMUL_KERNELS.gradB, 'matmul_grad_b', (a) => [a.k, a.n], () => 0],
  ];
  for (const backendName of KERNEL_BACKENDS) {
    for (const [kernelName, fn, shapeOf, scratchOf] of kernels) {
      tf.registerKernel({
        kernelName,
        backendName,
        kernelFunc: ({ inputs, backend, attrs }) => {
          const a = attrs as unknown as Attrs;
          return runKernel(backend, fn, [inputs.a as tf.TensorInfo, inputs.b as tf.TensorInfo],
            [{ shape: shapeOf(a) }], scratchOf(a), [a.m, a.k, a.n])[0];
        },
      });
    }
  }
}

function run(kernel: string, a: tf.Tensor, b: tf.Tensor, attrs: Attrs): tf.Tensor2D {
  register();
  return tf.engine().runKernel(kernel, { a, b },
    attrs as unknown as tf.NamedAttrMap) as tf.Tensor2D;
}

/** x [m,k] times w [k,n]. */
export function matMulKernel(x: tf.Tensor2D, w: tf.Tensor2D): tf.Tensor2D {
  const [m, k] = x.shape;
  return run(MATMUL_KERNELS.forward, x, w, { m, k, n: w.shape[1] });
}

/** The product's gradient for x: dy [m,n] times w^T, w [k,n]. */
export function matMulGradInputKernel(dy: tf.Tensor2D, w: tf.Tensor2D): tf.Tensor2D {
  const [k, n] = w.shape;
  return run(MATMUL_KERNELS.gradA, dy, w, { m: dy.shape[0], k, n });
}

/** The product's gradient for w: x^T times dy [m,n], x [m,k]. */
export function matMulGradWeightKernel(x: tf.Tensor2D, dy: tf.Tensor2D): tf.Tensor2D {
  const [m, k] = x.shape;
  return run(MATMUL_KERNELS.gradB, x, dy, { m, k, n: dy.shape[1] });
}

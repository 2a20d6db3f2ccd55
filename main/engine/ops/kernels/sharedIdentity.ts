/**
 * A copy-free Identity kernel for tfjs's wasm backend.
 *
 * tfjs clones every tensor a custom gradient saves for its backward pass, and
 * clones run the Identity kernel, which on wasm copies the whole tensor. In a
 * supernet training step that was about 2,500 copies (80 ms per step) and a
 * second copy of every saved activation held until the backward pass. The
 * cpu backend's Identity instead shares the data and counts one more
 * reference; this does the same on wasm, which keeps reference counts too.
 * Sharing is safe because no kernel writes into its inputs.
 */
import * as tf from '@tensorflow/tfjs';

interface RefCounting {
  incRef(dataId: unknown): void;
}

let installed = false;

/** Replaces wasm's Identity kernel with the sharing one (once; call after loading wasm). */
export function shareIdentityOnWasm(): void {
  if (installed) return;
  installed = true;

  tf.unregisterKernel('Identity', 'wasm');
  tf.registerKernel({
    kernelName: 'Identity',
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend }) => {
      const x = inputs.x as tf.TensorInfo;
      (backend as unknown as RefCounting).incRef(x.dataId);
      return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
    },
  });
}

/**
 * The engine's WebAssembly kernel module (depthwise.c and batchnorm.c, built
 * with SIMD by `npm run build:kernels`) and how its functions are called:
 * pointers to the inputs, then to the outputs, then scalars.
 *
 * The module imports its memory and keeps nothing in it (no data, no stack:
 * a test checks the binary), so on the wasm backend it is instantiated on
 * tfjs's own heap and works on tensors where they lie, with no copies. On
 * the cpu backend it gets a memory of its own, and a call copies its inputs
 * in and its outputs out.
 */
import * as tf from '@tensorflow/tfjs';

import { KERNELS_WASM_BASE64 } from './kernelsWasm.generated.js';
import type { KERNEL_EXPORTS } from './sources.js';

/** A function the module exports. */
export type KernelName = (typeof KERNEL_EXPORTS)[number];

type Exports = Record<KernelName, (...args: number[]) => void>;

let compiled: WebAssembly.Module | null = null;

function instantiate(memory: WebAssembly.Memory): Exports {
  compiled ??= new WebAssembly.Module(Buffer.from(KERNELS_WASM_BASE64, 'base64'));
  return new WebAssembly.Instance(compiled, { env: { memory } }).exports as unknown as Exports;
}

/** What the kernels need of tfjs's wasm backend (BackendWasm). */
interface WasmBackendLike {
  wasm: {
    asm: { memory: WebAssembly.Memory };
    _malloc(bytes: number): number;
    _free(pointer: number): void;
  };
  dataIdMap: { get(id: unknown): { memoryOffset: number } };
  makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo;
}

function isWasmBackend(backend: unknown): backend is WasmBackendLike {
  return typeof (backend as WasmBackendLike).wasm?.asm?.memory === 'object';
}

const onTfjsHeap = new WeakMap<object, Exports>();

/** A kernel's output: its shape, and its length in floats. */
export interface OutputSpec {
  shape: number[];
}

/**
 * Runs `name(inputs..., outputs..., scratch?, scalars...)` on tensors of the
 * active backend and returns the outputs as new tensors of that backend.
 *
 * @param scratchFloats floats of working space the function takes after its
 *   outputs (0: it takes none).
 */
export function runKernel(
  backend: unknown,
  name: KernelName,
  inputs: tf.TensorInfo[],
  outputs: OutputSpec[],
  scratchFloats: number,
  scalars: number[],
): tf.TensorInfo[] {
  return isWasmBackend(backend)
    ? runOnTfjsHeap(backend, name, inputs, outputs, scratchFloats, scalars)
    : runWithCopies(backend, name, inputs, outputs, scratchFloats, scalars);
}

function runOnTfjsHeap(
  backend: WasmBackendLike,
  name: KernelName,
  inputs: tf.TensorInfo[],
  outputs: OutputSpec[],
  scratchFloats: number,
  scalars: number[],
): tf.TensorInfo[] {
  let kernels = onTfjsHeap.get(backend);
  if (!kernels) {
    kernels = instantiate(backend.wasm.asm.memory);
    onTfjsHeap.set(backend, kernels);
  }

  const at = (t: tf.TensorInfo) => backend.dataIdMap.get(t.dataId).memoryOffset;
  const made = outputs.map((o) => backend.makeOutput(o.shape, 'float32'));
  const scratch = scratchFloats > 0 ? [backend.wasm._malloc(scratchFloats * 4)] : [];
  try {
    kernels[name](...inputs.map(at), ...made.map(at), ...scratch, ...scalars);
  } finally {
    if (scratch.length) backend.wasm._free(scratch[0]);
  }
  return made;
}

interface CpuBackendLike {
  data: { get(id: unknown): { values: unknown } };
  makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): tf.TensorInfo;
}

let ownMemory: { memory: WebAssembly.Memory; kernels: Exports } | null = null;

function runWithCopies(
  backend: unknown,
  name: KernelName,
  inputs: tf.TensorInfo[],
  outputs: OutputSpec[],
  scratchFloats: number,
  scalars: number[],
): tf.TensorInfo[] {
  const cpu = backend as CpuBackendLike;
  if (!ownMemory) {
    const memory = new WebAssembly.Memory({ initial: 2 });
    ownMemory = { memory, kernels: instantiate(memory) };
  }
  const { memory, kernels } = ownMemory;
  const values = inputs.map((t) => cpu.data.get(t.dataId).values as Float32Array);
  const sizes = [...values.map((v) => v.length), ...outputs.map((o) => sizeOf(o.shape)),
    scratchFloats];

  // 16-byte aligned regions, laid out one after another from offset 16.
  const offsets: number[] = [];
  let end = 16;
  for (const floats of sizes) {
    offsets.push(end);
    end += Math.ceil((floats * 4) / 16) * 16;
  }
  const have = memory.buffer.byteLength;
  if (end > have) memory.grow(Math.ceil((end - have) / 65536));

  const heap = new Float32Array(memory.buffer);
  values.forEach((v, i) => heap.set(v, offsets[i] / 4));
  const pointers = scratchFloats > 0 ? offsets : offsets.slice(0, -1);
  kernels[name](...pointers, ...scalars);

  return outputs.map((o, j) => {
    const from = offsets[inputs.length + j] / 4;
    return cpu.makeTensorInfo(o.shape, 'float32', heap.slice(from, from + sizeOf(o.shape)));
  });
}

function sizeOf(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** The backends the engine's kernels are registered on. */
export const KERNEL_BACKENDS = ['wasm', 'cpu'] as const;

/** Whether the active backend runs the engine's own kernels. */
export function hasEngineKernels(): boolean {
  return (KERNEL_BACKENDS as readonly string[]).includes(tf.getBackend());
}

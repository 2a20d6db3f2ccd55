/**
 * The engine's WebAssembly kernels (main/engine/ops/kernels): the committed
 * binary is the build of the committed C sources, and the kernels agree with
 * tfjs's reference ops on both backends they are registered on, including
 * channel counts that leave a tail after the 4-wide SIMD steps.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { initBackend } from '../main/engine/backend.js';
import {
  KERNELS_SOURCE_SHA256,
  KERNELS_WASM_BASE64,
} from '../main/engine/ops/kernels/kernelsWasm.generated.js';
import { KERNEL_SOURCES, sourcesSha256 } from '../main/engine/ops/kernels/sources.js';
import { batchNormTrain, depthwiseConv } from '../main/engine/ops/index.js';
import { matMul } from '../main/engine/ops/matmul.js';
import { Rng } from '../main/engine/rng.js';

const KERNEL_DIR = path.join(import.meta.dirname, '../main/engine/ops/kernels');

beforeAll(async () => {
  expect((await initBackend()).name).toBe('wasm');
});

afterAll(async () => {
  await tf.setBackend('wasm');
});

/** Seeded values mean + spread * N(0, 1). */
function seeded(rng: Rng, shape: number[], spread = 1, mean = 0): tf.Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(Array.from({ length: size }, () => mean + spread * rng.normal()), shape);
}

/** Value and gradients of sum(f(inputs) * upstream), read back as arrays. */
function valueAndGrads(
  f: (...ts: tf.Tensor[]) => tf.Tensor,
  inputs: number[][][],
  shapes: number[][],
  upstream: number[],
): Float32Array[] {
  const results = tf.tidy(() => {
    const ts = inputs.map((d, i) => tf.tensor(d.flat(), shapes[i]));
    const value = f(...ts);
    const up = tf.tensor(upstream, value.shape);
    return [value, ...tf.grads((...a: tf.Tensor[]) => tf.sum(tf.mul(f(...a), up)))(ts)];
  });
  const arrays = results.map((t) => t.dataSync() as Float32Array);
  tf.dispose(results);
  return arrays;
}

function maxRelativeError(ours: Float32Array, reference: Float32Array): number {
  let diff = 0;
  let scale = 1;
  for (let i = 0; i < ours.length; i++) {
    diff = Math.max(diff, Math.abs(ours[i] - reference[i]));
    scale = Math.max(scale, Math.abs(reference[i]));
  }
  return diff / scale;
}

/** The ids of a wasm binary's sections, in order (1 type, 2 import, 11 data...). */
function sectionIds(binary: Uint8Array): number[] {
  const ids: number[] = [];
  let at = 8;
  while (at < binary.length) {
    ids.push(binary[at]);
    at += 1;
    let size = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = binary[at++];
      size |= (byte & 0x7f) << shift;
      if (byte < 0x80) break;
    }
    at += size;
  }
  return ids;
}

describe('the kernel module', () => {
  it('imports its memory and brings no data into it, so it may run on tfjs\'s heap', () => {
    const binary = Buffer.from(KERNELS_WASM_BASE64, 'base64');
    const module = new WebAssembly.Module(binary);

    expect(WebAssembly.Module.imports(module)).toEqual([
      { module: 'env', name: 'memory', kind: 'memory' },
    ]);
    // Section 11 would hold data segments, written into the memory at start-up.
    expect(sectionIds(binary)).not.toContain(11);
    expect(sectionIds(binary)).toContain(10);
  });

  it('was built from the committed C sources (run `npm run build:kernels` after editing them)',
    () => {
      const contents = KERNEL_SOURCES.map((f) => readFileSync(path.join(KERNEL_DIR, f)));
      expect(KERNELS_SOURCE_SHA256).toBe(sourcesSha256(contents));
    });
});

describe("wasm's Identity kernel", () => {
  it('shares a clone\'s data instead of copying it, and the data outlives the original', () => {
    const backend = tf.backend() as unknown as { getMemoryOffset(id: unknown): number };
    const a = tf.tensor1d([1, 2, 3]);
    const b = tf.clone(a);

    // One buffer for both: what saves a copy of every tensor a gradient keeps.
    expect(backend.getMemoryOffset(b.dataId)).toBe(backend.getMemoryOffset(a.dataId));
    a.dispose();
    expect(Array.from(b.dataSync())).toEqual([1, 2, 3]);
    b.dispose();
  });
});

describe('fused batch norm + ReLU6 in training mode', () => {
  // 6 channels: one SIMD step and a tail of two. gamma near 3 and beta near
  // 3 spread the normalised values over about -6..12, on both sides of 0 and
  // of 6, so ReLU6's mask matters.
  const shapes = [[5, 3, 2, 6], [6], [6]];

  for (const backend of ['wasm', 'cpu']) {
    it(`equals relu6(tf.batchNorm) in value and gradients on ${backend}`, async () => {
      const rng = new Rng(7);
      const [x, gamma, beta] = [seeded(rng, shapes[0], 4, 3), seeded(rng, [6], 0.5, 3),
        seeded(rng, [6], 0.5, 3)];
      const data = [x, gamma, beta].map((t) => [Array.from(t.dataSync())]);
      const upstream = Array.from(seeded(rng, shapes[0]).dataSync());
      tf.dispose([x, gamma, beta]);

      await tf.setBackend('cpu');
      const expected = valueAndGrads((a, g, b) => {
        const { mean, variance } = tf.moments(a, [0, 1, 2]);
        return tf.relu6(tf.batchNorm(a, mean, variance, b as tf.Tensor1D, g as tf.Tensor1D,
          1e-5));
      }, data, shapes, upstream);

      await tf.setBackend(backend);
      const actual = valueAndGrads((a, g, b) =>
        batchNormTrain(a as tf.Tensor4D, g as tf.Tensor1D, b as tf.Tensor1D, 1e-5, true).y,
      data, shapes, upstream);

      const clipped = Array.from(expected[0]).filter((v) => v === 0 || v === 6).length;
      expect(clipped, 'some outputs must be clipped for the test to mean anything')
        .toBeGreaterThan(10);
      ['value', 'dx', 'dgamma', 'dbeta'].forEach((label, i) => {
        expect(maxRelativeError(actual[i], expected[i]), label).toBeLessThan(2e-4);
      });
    });
  }
});

describe('depthwise kernels', () => {
  // 10 channels: two SIMD steps and a tail of two; 9x6 is odd by even.
  for (const backend of ['wasm', 'cpu']) {
    for (const [k, stride] of [[3, 2], [7, 1], [5, 2]] as const) {
      it(`match tfjs's depthwiseConv2d on ${backend}, k${k} s${stride}, 10 channels`,
        async () => {
          const rng = new Rng(k * 10 + stride);
          const shapes = [[2, 9, 6, 10], [k, k, 10, 1]];
          const x = seeded(rng, shapes[0]);
          const w = seeded(rng, shapes[1], 0.3);
          const data = [x, w].map((t) => [Array.from(t.dataSync())]);
          const p = (k - 1) / 2;
          const outSize = 2 * Math.ceil(9 / stride) * Math.ceil(6 / stride) * 10;
          const upstream = Array.from(seeded(rng, [outSize]).dataSync());
          tf.dispose([x, w]);

          await tf.setBackend('cpu');
          const expected = valueAndGrads((a, b) => tf.depthwiseConv2d(
            tf.pad(a, [[0, 0], [p, p], [p, p], [0, 0]]) as tf.Tensor4D, b as tf.Tensor4D,
            stride, 'valid'), data, shapes, upstream);

          await tf.setBackend(backend);
          const actual = valueAndGrads((a, b) =>
            depthwiseConv(a as tf.Tensor4D, b as tf.Tensor4D, stride), data, shapes, upstream);

          ['value', 'dx', 'dw'].forEach((label, i) => {
            expect(actual[i].length, label).toBe(expected[i].length);
            expect(maxRelativeError(actual[i], expected[i]), label).toBeLessThan(2e-4);
          });
        });
    }
  }
});

describe('matrix product kernels', () => {
  // 13 x 7 times 7 x 10: every blocked loop (4 rows, 4 weight rows, 8 columns)
  // leaves a tail; 64 x 16 times 16 x 24 has none.
  for (const backend of ['wasm', 'cpu']) {
    for (const [m, k, n] of [[13, 7, 10], [64, 16, 24]]) {
      it(`match tf.matMul in value and both gradients on ${backend}, ${m}x${k} times ${k}x${n}`,
        async () => {
          const rng = new Rng(m + k + n);
          const shapes = [[m, k], [k, n]];
          const [a, b] = shapes.map((s) => seeded(rng, s));
          const data = [a, b].map((t) => [Array.from(t.dataSync())]);
          const upstream = Array.from(seeded(rng, [m * n]).dataSync());
          tf.dispose([a, b]);

          await tf.setBackend('cpu');
          const expected = valueAndGrads((x, w) => tf.matMul(x, w), data, shapes, upstream);
          await tf.setBackend(backend);
          const actual = valueAndGrads((x, w) => matMul(x as tf.Tensor2D, w as tf.Tensor2D),
            data, shapes, upstream);

          ['value', 'da', 'db'].forEach((label, i) => {
            expect(actual[i].length, label).toBe(expected[i].length);
            expect(maxRelativeError(actual[i], expected[i]), label).toBeLessThan(2e-5);
          });
        });
    }
  }
});

/**
 * Timings of the engine's ops on the active backend, for `npm run bench`:
 * the depthwise sub-block conv and the 1x1 conv of a unified block at the
 * paper's 14x14 stage, forward alone and forward plus backward.
 */
import * as tf from '@tensorflow/tfjs';

import { conv1x1, depthwiseConv, KERNEL_SIZES } from './conv.js';

export interface BenchRow {
  /** What was timed, e.g. "depthwise k=7 s=2 fwd+bwd". */
  op: string;
  /** Input shape [N,H,W,C]. */
  inputShape: number[];
  /** Fastest repetition, in milliseconds (the least disturbed by other load). */
  minMs: number;
  /** Median repetition, in milliseconds. */
  medianMs: number;
}

export interface BenchOptions {
  /** Batch size; 128 by default. */
  batch?: number;
  /** Timed repetitions per op after one warm-up run; 5 by default. */
  reps?: number;
  /** Called with each row as soon as it is measured. */
  onRow?: (row: BenchRow) => void;
}

/**
 * Times depthwiseConv (k = 3, 5, 7; stride 1 and 2) on x [batch,14,14,48],
 * with tfjs's own forward depthwise conv as the baseline, and conv1x1
 * 48 -> 96 on the same input. Runs on whatever backend is active (call
 * initBackend first) and frees every tensor it makes.
 *
 * @returns One row per measurement, in the order measured.
 */
export function benchOps(options: BenchOptions = {}): BenchRow[] {
  const batch = options.batch ?? 128;
  const reps = options.reps ?? 5;
  const shape: [number, number, number, number] = [batch, 14, 14, 48];
  const rows: BenchRow[] = [];
  const record = (op: string, run: () => tf.Tensor | tf.Tensor[]): void => {
    const row = { op, inputShape: shape, ...timeIt(run, reps) };
    rows.push(row);
    options.onRow?.(row);
  };

  const x = tf.randomNormal(shape) as tf.Tensor4D;
  try {
    for (const k of KERNEL_SIZES) {
      for (const stride of [1, 2] as const) {
        const w = tf.randomNormal([k, k, 48, 1], 0, 0.1) as tf.Tensor4D;
        const p = (k - 1) / 2;
        const name = `depthwise k=${k} s=${stride}`;
        const grads = tf.grads((a, b) =>
          depthwiseConv(a as tf.Tensor4D, b as tf.Tensor4D, stride),
        );

        record(`${name} tf.depthwiseConv2d fwd`, () =>
          tf.depthwiseConv2d(x, w, stride, [[0, 0], [p, p], [p, p], [0, 0]]),
        );
        record(`${name} fwd`, () => depthwiseConv(x, w, stride));
        record(`${name} fwd+bwd`, () => grads([x, w]));
        w.dispose();
      }
    }

    const w1 = tf.randomNormal([48, 96], 0, 0.1) as tf.Tensor2D;
    const grads1 = tf.grads((a, b) => conv1x1(a as tf.Tensor4D, b as tf.Tensor2D));
    record('conv1x1 48->96 fwd', () => conv1x1(x, w1));
    record('conv1x1 48->96 fwd+bwd', () => grads1([x, w1]));
    w1.dispose();
  } finally {
    x.dispose();
  }

  return rows;
}

/** Runs once to warm up (kernel setup, allocation), then `reps` timed runs. */
function timeIt(
  run: () => tf.Tensor | tf.Tensor[],
  reps: number,
): { minMs: number; medianMs: number } {
  tf.dispose(run());
  const times: number[] = [];

  for (let r = 0; r < reps; r++) {
    const start = performance.now();
    const out = run();
    // Reading the results waits for the work, so the time covers all of it.
    for (const t of Array.isArray(out) ? out : [out]) t.dataSync();
    times.push(performance.now() - start);
    tf.dispose(out);
  }

  times.sort((a, b) => a - b);
  return { minMs: times[0], medianMs: times[Math.floor(times.length / 2)] };
}

/**
 * Fair-sampling supernet training on real Fashion-MNIST images: it learns,
 * keeps memory flat, stops on divergence or cancellation, resumes exactly from
 * an epoch checkpoint, and scoring a sub-network leaves BN statistics as they
 * were.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { initBackend } from '../main/engine/backend.js';
import { loadDataset } from '../main/engine/data/dataset.js';
import type { ImageSet } from '../main/engine/data/imageSet.js';
import { splitValidation, subsetBalanced } from '../main/engine/data/split.js';
import { Supernet, type SupernetOptions } from '../main/engine/nn/supernet.js';
import type { Architecture, Preset } from '../main/engine/space/types.js';
import { latestCheckpoint } from '../main/engine/train/checkpoint.js';
import { scoreArchitecture } from '../main/engine/train/evaluate.js';
import { liveReplicaThreads } from '../main/engine/train/parallel/pool.js';
import {
  shareOut,
  trainSupernet,
  TrainingCancelledError,
  TrainingDivergedError,
  type SupernetEpochSummary,
  type SupernetProgress,
  type SupernetTrainingConfig,
} from '../main/engine/train/supernetTrainer.js';

/** A two-layer space on 28x28x1 images: quick enough to train in a test. */
const TINY28: Preset = {
  name: 'tiny28',
  inputSize: 28,
  inputChannels: 1,
  stem: { channels: 8, stride: 2 },
  firstBlockChannels: 4,
  layers: [
    { cOut: 8, stride: 2 },
    { cOut: 8, stride: 1 },
  ],
  headChannels: 32,
  constraint: { lowM: 0.1, highM: 0.2 },
};

const OPTIONS: SupernetOptions = {
  shadowBatchNorm: true,
  forcedSampling: true,
  minExpansion: 2,
  seed: 7,
};

const BASE: SupernetTrainingConfig = {
  epochs: 4,
  batchSize: 32,
  lr: 0.1,
  momentum: 0.9,
  weightDecay: 4e-5,
  labelSmoothing: 0.1,
  seed: 11,
};

let train: ImageSet;
let validation: ImageSet;
const tempDirs: string[] = [];

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'sgnas-train-'));
  tempDirs.push(dir);
  return dir;
}

function weights(net: Supernet): Record<string, number[]> {
  return Object.fromEntries(net.store.toArrays().map((a) => [a.name, Array.from(a.values)]));
}

beforeAll(async () => {
  await initBackend('wasm');
  const data = loadDataset({ dir: 'resources/fashion-mnist-sample' });
  const split = splitValidation(subsetBalanced(data.train, 420, 1), 10, 2);
  train = split.train; // 320 images
  validation = split.validation; // 100 images
});

afterAll(async () => {
  for (const dir of tempDirs) await rm(dir, { recursive: true, force: true });
});

describe('trainSupernet on 320 real images, batch 32', () => {
  const progress: SupernetProgress[] = [];
  const epochs: SupernetEpochSummary[] = [];
  const tensorCounts: number[] = [];

  beforeAll(async () => {
    const net = new Supernet(TINY28, 10, OPTIONS);
    await trainSupernet(net, train, BASE, {
      onProgress: (p) => {
        progress.push(p);
        tensorCounts.push(tf.memory().numTensors);
      },
      onEpochEnd: (s) => epochs.push(s),
    });
    net.dispose();
  });

  it('lowers the training loss from the first epoch to the last', () => {
    // Untrained, the loss is about ln(10) = 2.30; learning must bring it down.
    expect(epochs).toHaveLength(4);
    expect(epochs[0].loss).toBeGreaterThan(epochs[3].loss + 0.1);
    expect(epochs[3].accuracy).toBeGreaterThan(0.3);
  });

  it('reports every step with cosine-annealed learning rates', () => {
    expect(progress).toHaveLength(40);
    expect(progress[0]).toMatchObject(
      { stage: 'supernet', epoch: 1, epochs: 4, step: 1, steps: 10 },
    );
    expect(progress[0].lr).toBeCloseTo(0.1, 10);
    // Step 20 of 40 is halfway: lr0 / 2.
    expect(progress[20].lr).toBeCloseTo(0.05, 10);
    expect(progress[39].etaSec).toBeCloseTo(0, 6);
  });

  it('keeps the number of live tensors constant once every op has trained', () => {
    // Momentum buffers appear as ops first get gradients: sub-block 5 keeps a
    // kernel only at expansion 6, so its three kernels need three steps.
    const settled = tensorCounts.slice(5);
    expect(new Set(settled).size).toBe(1);
  });
});

describe('trainSupernet stopping', () => {
  it('stops on a loss above maxLoss, naming stage, epoch and step', async () => {
    const net = new Supernet(TINY28, 10, OPTIONS);

    const run = trainSupernet(net, train, { ...BASE, epochs: 1, maxLoss: 0.01 });

    await expect(run).rejects.toBeInstanceOf(TrainingDivergedError);
    await expect(run).rejects.toThrow(/supernet training diverged at epoch 1, step 1/);
    net.dispose();
  });

  it('stops within one step of a cancel signal', async () => {
    const net = new Supernet(TINY28, 10, OPTIONS);
    const controller = new AbortController();
    const steps: number[] = [];

    const run = trainSupernet(net, train, BASE, {
      signal: controller.signal,
      onProgress: (p) => {
        steps.push(p.step);
        if (p.step === 2) controller.abort();
      },
    });

    await expect(run).rejects.toBeInstanceOf(TrainingCancelledError);
    expect(steps).toEqual([1, 2]);
    net.dispose();
  });
});

describe('trainSupernet resume', () => {
  it('ends with the same weights as an uninterrupted run', async () => {
    const small = subsetBalanced(train, 64, 3);
    const config = { ...BASE, epochs: 2 };
    const straight = new Supernet(TINY28, 10, OPTIONS);
    await trainSupernet(straight, small, { ...config, checkpointDir: await tempDir() });

    const dir = await tempDir();
    const first = new Supernet(TINY28, 10, OPTIONS);
    const controller = new AbortController();
    const interrupted = trainSupernet(first, small, { ...config, checkpointDir: dir }, {
      signal: controller.signal,
      onEpochEnd: () => controller.abort(),
    });
    await expect(interrupted).rejects.toThrow(/cancelled at epoch 2, step 1/);
    // A different init seed: everything must come from the checkpoint.
    const resumed = new Supernet(TINY28, 10, { ...OPTIONS, seed: 99 });
    const resumeConfig = { ...config, checkpointDir: dir, resume: true };
    const result = await trainSupernet(resumed, small, resumeConfig);

    expect(result.resumedFromEpoch).toBe(1);
    expect(weights(resumed)).toEqual(weights(straight));
    [straight, first, resumed].forEach((n) => n.dispose());
  });

  it('keeps the last good checkpoint when a resumed run diverges', async () => {
    const small = subsetBalanced(train, 64, 3);
    const dir = await tempDir();
    const controller = new AbortController();
    const net = new Supernet(TINY28, 10, OPTIONS);
    const config = { ...BASE, epochs: 2, checkpointDir: dir };
    await trainSupernet(net, small, config, {
      signal: controller.signal,
      onEpochEnd: () => controller.abort(),
    }).catch(() => undefined);

    const run = trainSupernet(net, small, { ...config, resume: true, maxLoss: 0.01 });

    await expect(run).rejects.toThrow(/epoch 2, step 1/);
    const latest = await latestCheckpoint(dir, 'supernet');
    expect(path.basename(latest ?? '')).toBe('supernet-epoch-0001');
    net.dispose();
  });
});

describe('trainSupernet with replica threads (workers > 1)', () => {
  it('shares passes out contiguously, this thread taking the remainder first', () => {
    // 5 fair-sampling passes on 2 threads: 3 here, 2 in the replica.
    expect(shareOut(5, 2)).toEqual([3, 2]);
    expect(shareOut(10, 2)).toEqual([5, 5]);
    expect(shareOut(5, 3)).toEqual([2, 2, 1]);
  });

  it('ends with exactly the weights and BN statistics of a single-thread run', async () => {
    // Gradients and BN statistics are folded in in pass order, so not even the
    // float rounding may differ; microBatch 16 makes 10 passes a step, 5 + 5.
    const small = subsetBalanced(train, 64, 3);
    for (const microBatch of [undefined, 16]) {
      const config = { ...BASE, epochs: 2, microBatch };
      const single = new Supernet(TINY28, 10, OPTIONS);
      await trainSupernet(single, small, { ...config, workers: 1 });
      const shared = new Supernet(TINY28, 10, OPTIONS);
      await trainSupernet(shared, small, { ...config, workers: 2 });

      expect(weights(shared)).toEqual(weights(single));
      [single, shared].forEach((n) => n.dispose());
    }
    expect(liveReplicaThreads()).toBe(0);
  });

  it('resumes from a checkpoint to the weights of an uninterrupted run', async () => {
    const small = subsetBalanced(train, 64, 3);
    const config = { ...BASE, epochs: 2, workers: 2 };
    const straight = new Supernet(TINY28, 10, OPTIONS);
    await trainSupernet(straight, small, { ...config, workers: 1 });

    const dir = await tempDir();
    const first = new Supernet(TINY28, 10, OPTIONS);
    const controller = new AbortController();
    await expect(
      trainSupernet(first, small, { ...config, checkpointDir: dir }, {
        signal: controller.signal,
        onEpochEnd: () => controller.abort(),
      }),
    ).rejects.toBeInstanceOf(TrainingCancelledError);
    expect(liveReplicaThreads()).toBe(0);

    const resumed = new Supernet(TINY28, 10, { ...OPTIONS, seed: 99 });
    await trainSupernet(resumed, small, { ...config, checkpointDir: dir, resume: true });

    expect(weights(resumed)).toEqual(weights(straight));
    [straight, first, resumed].forEach((n) => n.dispose());
  });

  it('stops on a cancel while the replica works, and ends its thread', async () => {
    const net = new Supernet(TINY28, 10, OPTIONS);
    const controller = new AbortController();
    const steps: number[] = [];
    // Cancelled before step 2's own passes finish: the step is dropped.
    const run = trainSupernet(net, train, { ...BASE, workers: 2 }, {
      signal: controller.signal,
      onProgress: (p) => {
        steps.push(p.step);
        if (p.step === 1) setImmediate(() => controller.abort());
      },
    });

    await expect(run).rejects.toBeInstanceOf(TrainingCancelledError);
    expect(steps).toEqual([1]);
    expect(liveReplicaThreads()).toBe(0);
    net.dispose();
  });
});

describe('scoreArchitecture', () => {
  it('scores with recalibrated BN and restores the running statistics', async () => {
    const net = new Supernet(TINY28, 10, OPTIONS);
    await trainSupernet(net, train, { ...BASE, epochs: 2 });
    const arch: Architecture = {
      layers: [
        ['3x3', '5x5', '7x7', 'skip', 'skip', 'skip'],
        ['7x7', '3x3', 'skip', 'skip', 'skip', 'skip'],
      ],
    };
    const before = weights(net);

    const recalibrated = scoreArchitecture(net, arch, validation, {
      train,
      recalibration: { batches: 2, batchSize: 64, seed: 0 },
    });
    const again = scoreArchitecture(net, arch, validation, {
      train,
      recalibration: { batches: 2, batchSize: 64, seed: 0 },
    });

    // Above chance (0.1) after training; same images, same statistics, same score.
    expect(recalibrated).toBeGreaterThan(0.2);
    expect(again).toBe(recalibrated);
    expect(weights(net)).toEqual(before);
    net.dispose();
  });
});

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { initBackend } from '../main/engine/backend.js';
import type { ImageSet } from '../main/engine/data/imageSet.js';
import { ArchitectureGenerator, normalizeTargets } from '../main/engine/nn/generator.js';
import { Supernet } from '../main/engine/nn/supernet.js';
import { Rng } from '../main/engine/rng.js';
import { flopsM } from '../main/engine/space/costModel.js';
import { decodeAlpha } from '../main/engine/space/decode.js';
import { priorToTensorData, randomPrior } from '../main/engine/space/priors.js';
import type { Preset, SpaceOptions } from '../main/engine/space/types.js';
import { kendallTauB } from '../main/engine/stats.js';
import {
  GeneratorTrainingError,
  trainGenerator,
  type GeneratorProgress,
  type GeneratorTrainingConfig,
} from '../main/engine/train/generatorTrainer.js';

const OPTIONS: SpaceOptions = { forcedSampling: true, minExpansion: 2 };

/**
 * A tiny space on 8x8 grey images: 2 searchable layers, so a supernet forward
 * costs milliseconds and the tests stay fast on a shared CPU.
 */
const TINY: Preset = {
  name: 'tiny',
  inputSize: 8,
  inputChannels: 1,
  stem: { channels: 4, stride: 2 },
  firstBlockChannels: 4,
  layers: [
    { cOut: 4, stride: 1 },
    { cOut: 8, stride: 2 },
  ],
  headChannels: 16,
  constraint: { lowM: 0.012, highM: 0.024 },
};

let supernet: Supernet;
let validation: ImageSet;
let dir = '';

/** Random images whose label is set by mean brightness, so the CE is learnable. */
function syntheticSet(count: number, seed: number): ImageSet {
  const rng = new Rng(seed);
  const size = TINY.inputSize * TINY.inputSize;
  const images = new Uint8Array(count * size);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    labels[i] = rng.int(2);
    for (let p = 0; p < size; p++) images[i * size + p] = labels[i] * 120 + rng.int(136);
  }
  return {
    images, labels, count, height: 8, width: 8, channels: 1, classes: 2,
    name: 'synthetic', classNames: ['dark', 'bright'],
    normalization: { mean: [0.5], std: [0.3] },
  };
}

function config(overrides: Partial<GeneratorTrainingConfig> = {}): GeneratorTrainingConfig {
  return {
    epochs: 2,
    stepsPerEpoch: 3,
    targetsPerStep: 4,
    validationBatch: 8,
    lr: 1e-3,
    lambda: 10,
    tau0: 5,
    tauDecay: 0.95,
    constraint: TINY.constraint,
    seed: 11,
    prior: randomPrior(TINY, OPTIONS, 3),
    ...overrides,
  };
}

/** Decoded FLOPs for evenly spaced targets across the constraint interval. */
function sweepFlops(generator: ArchitectureGenerator, count: number) {
  const { lowM, highM } = TINY.constraint;
  const step = (highM - lowM) / (count - 1);
  const targets = Array.from({ length: count }, (_, i) => lowM + step * i);
  const prior = priorToTensorData(randomPrior(TINY, OPTIONS, 3));
  const priors = tf.tensor2d(targets.flatMap(() => Array.from(prior)), [count, 2 * 24]);
  const t = tf.tensor1d(normalizeTargets(targets, TINY.constraint));
  const alpha = generator.forward(priors, t);
  const data = alpha.dataSync() as Float32Array;
  tf.dispose([priors, t, alpha]);

  const flops = targets.map((_, i) =>
    flopsM(decodeAlpha(data.slice(i * 48, (i + 1) * 48), OPTIONS), TINY),
  );
  return { targets, flops };
}

beforeAll(async () => {
  await initBackend('wasm');
  supernet = new Supernet(TINY, 2, { ...OPTIONS, shadowBatchNorm: true, seed: 2 });
  validation = syntheticSet(64, 5);
  dir = await mkdtemp(path.join(tmpdir(), 'sgnas-gen-train-'));
});

afterAll(async () => {
  supernet.dispose();
  await rm(dir, { recursive: true, force: true });
});

describe('trainGenerator', () => {
  it('lowers the loss on a small fixed problem and makes FLOPs follow the target', async () => {
    const generator = new ArchitectureGenerator(2, 1, OPTIONS);
    const before = sweepFlops(generator, 12);
    const losses: number[] = [];

    // Cost-dominated problem at a low temperature (tau near 1), where the
    // argmax decoding follows the expected cost closely.
    await trainGenerator(generator, supernet, { validation }, config({
      epochs: 1, stepsPerEpoch: 60, tau0: 1, lr: 3e-3, targetsPerStep: 8,
    }), { onProgress: (e) => losses.push(e.loss) });

    const first = mean(losses.slice(0, 5));
    const last = mean(losses.slice(-5));
    expect(last).toBeLessThan(first * 0.6);

    // An untrained generator ignores the target; a trained one orders its
    // architectures by it (Kendall tau-b well above the untrained value). On
    // these 12 budgets the trained tau moves between about 0.77 and 0.85 with
    // the kernels' summation order (one or two of 66 pairs), hence 0.7.
    const after = sweepFlops(generator, 12);
    const tauBefore = kendallTauB(before.targets, before.flops).value ?? 0;
    const tauAfter = kendallTauB(after.targets, after.flops).value ?? 0;
    expect(tauAfter).toBeGreaterThan(0.7);
    expect(tauAfter).toBeGreaterThan(tauBefore);
    generator.dispose();
  });

  it('reports progress for every step with the fields the GUI shows', async () => {
    const generator = new ArchitectureGenerator(2, 1, OPTIONS);
    const events: GeneratorProgress[] = [];
    await trainGenerator(generator, supernet, { validation }, config(), {
      onProgress: (e) => events.push(e),
    });

    expect(events).toHaveLength(6);
    expect(events[0]).toMatchObject({
      stage: 'generator', epoch: 0, epochs: 2, step: 0, steps: 3,
    });
    // The temperature falls by the factor once per epoch: 5.0, then 4.75.
    expect(events[0].tau).toBe(5);
    expect(events[5].tau).toBeCloseTo(4.75, 10);
    for (const e of events) {
      expect(e.loss).toBeCloseTo(e.ce + 10 * e.costLoss, 4);
      expect(e.ce).toBeGreaterThan(0);
    }
    expect(events[5].etaSec).toBe(0);
    generator.dispose();
  });

  it('resumes from an epoch checkpoint to the exact weights of an uninterrupted run', async () => {
    const straight = new ArchitectureGenerator(2, 4, OPTIONS);
    await trainGenerator(straight, supernet, { validation }, config());

    const resumed = new ArchitectureGenerator(2, 4, OPTIONS);
    const folder = path.join(dir, 'resume');
    await trainGenerator(resumed, supernet, { validation }, config(), {
      checkpointDir: folder,
      onProgress: (e) => {
        if (e.epoch === 1) throw new Error('interrupted after the first epoch');
      },
    }).catch((err: Error) => expect(err.message).toMatch(/interrupted/));

    const fresh = new ArchitectureGenerator(2, 99, OPTIONS);
    const result = await trainGenerator(fresh, supernet, { validation }, config(), {
      checkpointDir: folder,
      resume: true,
    });

    expect(result.startEpoch).toBe(1);
    expect(result.stepsRun).toBe(3);
    expect(fresh.exportWeights()).toEqual(straight.exportWeights());
    [straight, resumed, fresh].forEach((g) => g.dispose());
  });

  it('refuses to resume a checkpoint written with other settings', async () => {
    const generator = new ArchitectureGenerator(2, 4, OPTIONS);
    const folder = path.join(dir, 'other-settings');
    await trainGenerator(generator, supernet, { validation }, config({ epochs: 1 }), {
      checkpointDir: folder,
    });

    await expect(
      trainGenerator(generator, supernet, { validation }, config({ lambda: 3 }), {
        checkpointDir: folder,
        resume: true,
      }),
    ).rejects.toThrow(/other settings/);
    generator.dispose();
  });

  it('stops with an error naming stage, epoch and step when the loss is not finite', async () => {
    const generator = new ArchitectureGenerator(2, 4, OPTIONS);
    const run = trainGenerator(generator, supernet, { validation }, config({ lambda: NaN }));
    // A NaN lambda is refused up front; an infinite one makes the loss infinite.
    await expect(run).rejects.toThrow(/lambda must be >= 0/);

    const error = await trainGenerator(generator, supernet, { validation },
      config({ lambda: Infinity })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GeneratorTrainingError);
    expect((error as GeneratorTrainingError).message).toMatch(
      /generator training diverged at epoch 1\/2, step 1\/3: loss (NaN|Infinity)/,
    );
    expect((error as GeneratorTrainingError).stage).toBe('generator');
    generator.dispose();
  });

  it('cancels through an AbortSignal before the next step starts', async () => {
    const generator = new ArchitectureGenerator(2, 4, OPTIONS);
    const controller = new AbortController();
    let steps = 0;
    const run = trainGenerator(generator, supernet, { validation }, config(), {
      signal: controller.signal,
      onProgress: () => {
        steps++;
        if (steps === 2) controller.abort();
      },
    });

    await expect(run).rejects.toThrow(/abort/i);
    expect(steps).toBe(2);
    generator.dispose();
  });

  it('keeps the number of tensors flat from step to step', async () => {
    const generator = new ArchitectureGenerator(2, 4, OPTIONS);
    const counts: number[] = [];
    await trainGenerator(generator, supernet, { validation }, config({ stepsPerEpoch: 4 }), {
      onProgress: () => counts.push(tf.memory().numTensors),
    });

    // After the first step Adam's buffers exist; from then on nothing may grow.
    expect(new Set(counts.slice(1)).size).toBe(1);
    generator.dispose();
  });

  it('refuses a validation batch smaller than the number of targets', async () => {
    const generator = new ArchitectureGenerator(2, 4, OPTIONS);
    await expect(
      trainGenerator(generator, supernet, { validation }, config({ validationBatch: 2 })),
    ).rejects.toThrow(/validationBatch 2 is smaller than targetsPerStep 4/);
    generator.dispose();
  });
});

function mean(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

describe('the tiny test space', () => {
  it('has a constraint interval inside its FLOPs range', async () => {
    const { flopsRangeM } = await import('../main/engine/space/costModel.js');
    const { minM, maxM } = flopsRangeM(TINY, OPTIONS);
    expect(minM).toBeLessThan(TINY.constraint.lowM);
    expect(maxM).toBeGreaterThan(TINY.constraint.highM);
  });
});

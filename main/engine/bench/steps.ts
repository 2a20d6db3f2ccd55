/**
 * The steps `npm run bench` times on our engine, each the same network,
 * batch and optimiser as its PyTorch twin in resources/bench/torch_steps.py:
 *
 * - supernet-fmnist: one supernet training step on the fmnist preset (batch
 *   64, five fair-sampled single-path passes, SGD with momentum), run by the
 *   trainer `npm run search` uses, with its default worker threads;
 * - supernet-cifar3: the same on the cifar preset cut to 3 searchable layers;
 * - generator-fmnist: one generator training step (8 targets sharing a
 *   validation batch of 32, Gumbel-softmax weighted supernet, Adam);
 * - score-fmnist: inference of one sampled sub-network, batch 256.
 *
 * Images are random: data loading is timed on neither side.
 */
import { performance } from 'node:perf_hooks';

import * as tf from '@tensorflow/tfjs';

import type { ImageSet } from '../data/imageSet.js';
import { ArchitectureGenerator } from '../nn/generator.js';
import { Supernet } from '../nn/supernet.js';
import { defaultSearchConfig } from '../pipeline/defaults.js';
import { getPreset } from '../space/presets.js';
import { randomPrior } from '../space/priors.js';
import { randomArchitecture } from '../space/sampling.js';
import type { Preset } from '../space/types.js';
import { Rng } from '../rng.js';
import { trainGenerator } from '../train/generatorTrainer.js';
import { trainSupernet } from '../train/supernetTrainer.js';

export const BENCH_STEPS = [
  'supernet-fmnist',
  'supernet-cifar3',
  'generator-fmnist',
  'score-fmnist',
] as const;

export type BenchStepName = (typeof BENCH_STEPS)[number];

export interface StepOptions {
  /** Timed steps after the warm-up. */
  steps: number;
  /** Untimed steps first (kernel set-up, allocator, worker start-up). */
  warmup: number;
  /** Supernet training threads (the search's default when absent). */
  workers?: number;
}

/** One step's figures, in the shape the PyTorch script prints too. */
export interface StepResult {
  name: BenchStepName;
  imgPerSec: number;
  secondsPerStep: number;
  imagesPerStep: number;
  threads: number;
  /** Peak resident memory of the whole process, MB. */
  peakRssMB: number;
  /** Resident memory after the backend and the network were set up, MB. */
  idleRssMB: number;
  /** Trainable parameters of the network the step trains (or scores). */
  params: number;
}

const SPACE = { forcedSampling: true, minExpansion: 2, shadowBatchNorm: true, seed: 1 };

/** The cifar preset cut to its first three searchable layers. */
export function cifarThreeLayers(): Preset {
  const cifar = getPreset('cifar');
  return { ...cifar, name: 'cifar', layers: cifar.layers.slice(0, 3) };
}

/** count random images of a preset's input shape, 10 balanced classes. */
function randomImages(preset: Preset, count: number, seed: number): ImageSet {
  const rng = new Rng(seed);
  const size = preset.inputSize * preset.inputSize * preset.inputChannels;
  const images = new Uint8Array(count * size);
  for (let i = 0; i < images.length; i++) images[i] = Math.floor(rng.next() * 256);
  const labels = Uint8Array.from({ length: count }, (_, i) => i % 10);
  return {
    images, labels, count, classes: 10, name: 'random',
    height: preset.inputSize, width: preset.inputSize, channels: preset.inputChannels,
    classNames: Array.from({ length: 10 }, (_, i) => `class ${i}`),
    normalization: { mean: new Array(preset.inputChannels).fill(0.5),
      std: new Array(preset.inputChannels).fill(0.25) },
  };
}

const MB = 1024 * 1024;

/** Seconds per step from the times at which each step ended. */
function perStep(ends: number[], start: number, warmup: number, steps: number): number {
  const from = warmup === 0 ? start : ends[warmup - 1];
  return (ends[warmup + steps - 1] - from) / 1000 / steps;
}

async function supernetStep(preset: Preset, options: StepOptions) {
  const config = defaultSearchConfig('fmnist').supernet;
  const batch = 64;
  const workers = options.workers ?? config.workers ?? 1;
  const total = options.warmup + options.steps;
  const train = randomImages(preset, batch * total, 1);
  const supernet = new Supernet(preset, 10, SPACE);
  const idle = process.memoryUsage().rss;

  const ends: number[] = [];
  const start = performance.now();
  // Random labels can drive the loss past the trainer's divergence guard; the
  // bench times steps, so only a non-finite loss stops it (PyTorch's side has no guard).
  await trainSupernet(supernet, train, { ...config, epochs: 1, batchSize: batch,
    microBatch: batch, seed: 1, workers, maxLoss: Number.MAX_VALUE },
  { onProgress: () => ends.push(performance.now()) });
  const params = supernet.store.trainableCount();
  supernet.dispose();

  return { seconds: perStep(ends, start, options.warmup, options.steps), images: batch,
    threads: workers, idle, params };
}

async function generatorStep(options: StepOptions) {
  const preset = getPreset('fmnist');
  const config = defaultSearchConfig('fmnist').generator;
  const supernet = new Supernet(preset, 10, SPACE);
  const generator = new ArchitectureGenerator(preset.layers.length, 1, SPACE);
  const validation = randomImages(preset, config.validationBatch * 4, 2);
  const idle = process.memoryUsage().rss;

  const ends: number[] = [];
  const start = performance.now();
  await trainGenerator(generator, supernet, { validation }, {
    ...config, epochs: 1, stepsPerEpoch: options.warmup + options.steps, seed: 1,
    constraint: preset.constraint, prior: randomPrior(preset, SPACE, 1),
  }, { onProgress: () => ends.push(performance.now()) });
  const params = generator.store.trainableCount();
  generator.dispose();
  supernet.dispose();

  // A step scores every target on its share of one validation batch.
  return { seconds: perStep(ends, start, options.warmup, options.steps),
    images: config.validationBatch, threads: 1, idle, params };
}

function scoreStep(options: StepOptions) {
  const preset = getPreset('fmnist');
  const batch = 256;
  const supernet = new Supernet(preset, 10, SPACE);
  const rng = new Rng(3);
  const x = tf.randomNormal([batch, preset.inputSize, preset.inputSize,
    preset.inputChannels]) as tf.Tensor4D;
  const idle = process.memoryUsage().rss;

  // A fresh random sub-network each step, so the figure averages over the space.
  const once = () => {
    const logits = supernet.forwardSinglePath(x, randomArchitecture(preset, SPACE, rng), false);
    logits.dataSync();
    logits.dispose();
  };
  for (let i = 0; i < options.warmup; i++) once();
  const start = performance.now();
  for (let i = 0; i < options.steps; i++) once();
  const seconds = (performance.now() - start) / 1000 / options.steps;
  const params = supernet.store.trainableCount();
  x.dispose();
  supernet.dispose();

  return { seconds, images: batch, threads: 1, idle, params };
}

/**
 * Times one step on the active backend (call initBackend first).
 *
 * @throws RangeError for an unknown step name or fewer than one timed step.
 */
export async function runOurStep(name: string, options: StepOptions): Promise<StepResult> {
  if (!Number.isInteger(options.steps) || options.steps < 1) {
    throw new RangeError(`steps must be a positive integer, got ${options.steps}`);
  }
  const r = name === 'supernet-fmnist' ? await supernetStep(getPreset('fmnist'), options)
    : name === 'supernet-cifar3' ? await supernetStep(cifarThreeLayers(), options)
    : name === 'generator-fmnist' ? await generatorStep(options)
    : name === 'score-fmnist' ? scoreStep(options)
    : null;
  if (!r) throw new RangeError(`unknown bench step '${name}': choose one of ${BENCH_STEPS}`);

  return {
    name: name as BenchStepName,
    imgPerSec: r.images / r.seconds,
    secondsPerStep: r.seconds,
    imagesPerStep: r.images,
    threads: r.threads,
    peakRssMB: process.resourceUsage().maxRSS / 1024,
    idleRssMB: r.idle / MB,
    params: r.params,
  };
}

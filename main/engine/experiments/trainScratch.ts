/**
 * Training an architecture's stand-alone network from scratch (method.md 8b):
 * SGD with momentum, cosine learning rate, label smoothing, on the training
 * set; top-1 accuracy on the test set; export as a tfjs model folder plus the
 * architecture's JSON.
 */
import path from 'node:path';
import { performance } from 'node:perf_hooks';

import * as tf from '@tensorflow/tfjs';

import { BatchSampler, orderedBatches, toBatch } from '../data/batches.js';
import type { ImageSet } from '../data/imageSet.js';
import { updateRunningStatistics, type BatchNormStat } from '../nn/unifiedBlock.js';
import { writeFileAtomic } from '../pipeline/runFolder.js';
import { Rng } from '../rng.js';
import { architectureToJson, formatArchitecture } from '../space/architecture.js';
import { flopsM, paramCount } from '../space/costModel.js';
import type { Architecture, Preset } from '../space/types.js';
import { yieldToEventLoop } from '../train/eventLoop.js';
import { SgdOptimizer, type GradientMap } from '../train/optimizers.js';
import { cosineLearningRate } from '../train/schedule.js';
import { smoothedCrossEntropy } from '../train/supernetTrainer.js';
import { SearchCancelledError } from './baselineTypes.js';
import type { ExperimentHooks } from './hooks.js';
import { folderIO } from './modelIO.js';
import { StandaloneNetwork } from './standalone.js';
import type { ScratchResult } from './reports.js';

export type { ScratchResult } from './reports.js';

/** Settings of training from scratch. */
export interface ScratchTrainingOptions {
  epochs: number;
  batchSize: number;
  lr: number;
  momentum: number;
  weightDecay: number;
  labelSmoothing: number;
  seed: number;
}

/** CPU defaults for fmnist: a few epochs, the paper's optimiser settings otherwise. */
export const CPU_SCRATCH_TRAINING: Readonly<ScratchTrainingOptions> = {
  epochs: 3,
  batchSize: 128,
  lr: 0.1,
  momentum: 0.9,
  weightDecay: 4e-5,
  labelSmoothing: 0.1,
  seed: 1,
};

/**
 * Trains the network in place.
 *
 * @returns the mean training loss of each epoch.
 * @throws RangeError when the set cannot fill one batch; SearchCancelledError on abort.
 */
export async function trainStandalone(
  net: StandaloneNetwork,
  train: ImageSet,
  options: ScratchTrainingOptions,
  hooks: ExperimentHooks = {},
): Promise<number[]> {
  const batches = new BatchSampler(train.count, Math.min(options.batchSize, train.count),
    options.seed);
  const optimizer = new SgdOptimizer(net.store.trainables(), {
    momentum: options.momentum,
    weightDecay: options.weightDecay,
  });
  const rng = new Rng(options.seed).fork();
  const steps = batches.batchesPerEpoch;
  const total = steps * options.epochs;
  const losses: number[] = [];

  try {
    for (let epoch = 0; epoch < options.epochs; epoch++) {
      let lossSum = 0;
      for (let s = 0; s < steps; s++) {
        if (hooks.signal?.aborted) throw new SearchCancelledError('train-scratch', 0, s);
        const step = epoch * steps + s;
        const loss = trainStep(net, train, batches.next().indices, optimizer, {
          lr: cosineLearningRate(options.lr, step, total),
          smoothing: options.labelSmoothing,
          dropoutSeed: rng.int(2 ** 31),
        });
        lossSum += loss;
        hooks.onMetrics?.([{ stage: 'train', epoch: epoch + 1, step: s + 1, name: 'loss',
          value: loss }]);
        hooks.onProgress?.((step + 1) / total, 'train');
        await yieldToEventLoop();
      }
      losses.push(lossSum / steps);
      hooks.log?.(`[train-scratch] epoch ${epoch + 1}/${options.epochs}: loss ` +
        `${(lossSum / steps).toFixed(4)}`);
    }
    return losses;
  } finally {
    optimizer.dispose();
  }
}

function trainStep(
  net: StandaloneNetwork,
  train: ImageSet,
  indices: Int32Array,
  optimizer: SgdOptimizer,
  step: { lr: number; smoothing: number; dropoutSeed: number },
): number {
  const { x, y } = toBatch(train, indices);
  const stats: BatchNormStat[] = [];
  const variables = net.store.trainables().map((p) => p.variable);
  try {
    const { value, grads } = tf.variableGrads(() => {
      const logits = net.forward(x, { training: true, stats }, step.dropoutSeed);
      return smoothedCrossEntropy(logits, y, step.smoothing);
    }, variables);

    const named: GradientMap = new Map();
    for (const [tfName, g] of Object.entries(grads)) {
      named.set(net.store.byVariableName(tfName)!.name, g);
    }
    optimizer.step(named, step.lr);
    tf.dispose(Object.values(grads));
    updateRunningStatistics(stats, 0.1);

    const loss = value.dataSync()[0];
    value.dispose();
    return loss;
  } finally {
    x.dispose();
    y.dispose();
  }
}

/** Top-1 accuracy of a LayersModel or stand-alone network on a labelled set. */
export function standaloneAccuracy(
  net: StandaloneNetwork | tf.LayersModel,
  set: ImageSet,
  batchSize = 256,
): number {
  let correct = 0;
  for (const indices of orderedBatches(set.count, batchSize)) {
    const { x, y } = toBatch(set, indices);
    const hits = tf.tidy(() => {
      const logits = net instanceof StandaloneNetwork
        ? net.forward(x, { training: false })
        : (net.predict(x) as tf.Tensor2D);
      return tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), y), 'int32'));
    });
    correct += hits.dataSync()[0];
    tf.dispose([hits, x, y]);
  }
  return correct / set.count;
}

/**
 * Builds, trains, tests and (when exportDir is given) exports the
 * stand-alone network of an architecture. The export folder holds model.json,
 * weights.bin and architecture.json ({"layers": ...}, plus its text form,
 * FLOPs and parameters).
 */
export async function trainFromScratch(
  arch: Architecture,
  preset: Preset,
  data: { train: ImageSet; test: ImageSet; classes: number },
  options: ScratchTrainingOptions,
  exportDir: string | null,
  hooks: ExperimentHooks = {},
): Promise<ScratchResult> {
  const net = new StandaloneNetwork(arch, preset, data.classes, { seed: options.seed });
  try {
    const started = performance.now();
    const epochLosses = await trainStandalone(net, data.train, options, hooks);
    const trainSeconds = (performance.now() - started) / 1000;
    const testAccuracy = standaloneAccuracy(net, data.test);

    const result: ScratchResult = {
      architecture: formatArchitecture(arch),
      flopsM: flopsM(arch, preset),
      params: paramCount(arch, preset, data.classes),
      testAccuracy,
      testImages: data.test.count,
      trainImages: data.train.count,
      epochLosses,
      trainSeconds,
      exportDir,
    };
    if (exportDir) await exportStandalone(net, exportDir, result);
    hooks.log?.(`[train-scratch] test accuracy ${(testAccuracy * 100).toFixed(2)}% on ` +
      `${data.test.count} images, ${result.params} parameters, ${trainSeconds.toFixed(1)} s`);
    return result;
  } finally {
    net.dispose();
  }
}

/** Writes the tfjs model folder and architecture.json. */
export async function exportStandalone(
  net: StandaloneNetwork,
  dir: string,
  result: Pick<ScratchResult, 'flopsM' | 'params' | 'testAccuracy'>,
): Promise<void> {
  const model = net.toLayersModel();
  try {
    await model.save(folderIO(dir));
  } finally {
    model.dispose();
  }
  const json = JSON.parse(architectureToJson(net.architecture)) as Record<string, unknown>;
  const text = formatArchitecture(net.architecture);
  writeFileAtomic(path.join(dir, 'architecture.json'),
    `${JSON.stringify({ preset: net.preset.name, text, ...json, ...result }, null, 2)}\n`);
}

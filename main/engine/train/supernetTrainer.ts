/**
 * Single-path supernet training with fair sampling (method.md section 5).
 *
 * Each optimiser step takes one batch of images and the FairSampler's
 * architectures for it (one per expansion rate, so every rate trains every
 * layer once per step); each architecture runs one forward/backward pass
 * (optionally in micro-batches) and the gradients are summed, as repeated
 * `loss.backward()` calls sum them in PyTorch. Then one SGD step with the
 * cosine learning rate. BN running statistics are updated after each pass,
 * outside the gradient tape.
 *
 * A checkpoint is written at the end of every epoch; a run started with
 * `resume` continues from the newest one and, on the same backend and seed,
 * ends with the same weights as an uninterrupted run.
 *
 * With `workers` > 1 the passes of a step are shared out among replica
 * threads (parallel/pool.ts); the results do not depend on the count.
 */
import * as tf from '@tensorflow/tfjs';

import { activeBackend, type BackendName } from '../backend.js';
import { BatchSampler, toBatch, type SamplerState } from '../data/batches.js';
import type { ImageSet } from '../data/imageSet.js';
import type { BatchNormParams } from '../nn/unifiedBlock.js';
import type { Supernet } from '../nn/supernet.js';
import { Rng } from '../rng.js';
import { FairSampler, type FairSamplerState } from '../space/sampling.js';
import type { Architecture } from '../space/types.js';
import { checkpointLabel, loadNewestValidCheckpoint, saveCheckpoint } from './checkpoint.js';
import { yieldToEventLoop } from './eventLoop.js';
import { SgdOptimizer, type GradientMap } from './optimizers.js';
import { computePass } from './parallel/pass.js';
import { SupernetReplicaPool } from './parallel/pool.js';
import type { PassUnit, UnitResult } from './parallel/protocol.js';
import { packWeights, unpackGradients, unpackStats } from './parallel/transfer.js';
import { cosineLearningRate } from './schedule.js';

export { smoothedCrossEntropy } from './parallel/pass.js';

/** Settings of supernet training (the `supernet` part of the search config). */
export interface SupernetTrainingConfig {
  epochs: number;
  /** Images per optimiser step. */
  batchSize: number;
  /** Images per forward/backward pass (memory cap); batchSize by default. */
  microBatch?: number;
  /** Learning rate at step 0 (cosine-annealed to 0); paper: 0.045. */
  lr: number;
  /** SGD momentum; paper: 0.9. */
  momentum: number;
  /** L2 on conv and linear weights; paper: 4e-5. */
  weightDecay: number;
  /** Label smoothing of the cross-entropy; paper: 0.1. */
  labelSmoothing: number;
  /** Seeds the batch order and the fair sampler. */
  seed: number;
  /** Where epoch checkpoints go; none are written without it. */
  checkpointDir?: string;
  /** Continue from the newest checkpoint in checkpointDir, if there is one. */
  resume?: boolean;
  /** A pass whose loss exceeds this stops training; 10 x ln(classes) by default. */
  maxLoss?: number;
  /**
   * Threads that share each step's passes (1 by default: this thread only).
   * With n > 1, n - 1 replica threads each run a contiguous share of the
   * step's passes on a copy of the weights; their gradients and BN
   * statistics are folded in in pass order, so the result is the same as
   * with 1 (on one backend), only faster on several cores.
   */
  workers?: number;
}

/** One progress event, emitted after every optimiser step. */
export interface SupernetProgress {
  stage: 'supernet';
  /** 1-based epoch in progress. */
  epoch: number;
  epochs: number;
  /** 1-based step within the epoch. */
  step: number;
  /** Steps per epoch. */
  steps: number;
  /** Mean training loss over the epoch so far (all passes). */
  loss: number;
  /** Training top-1 accuracy over the epoch so far (all passes). */
  accuracy: number;
  /** Learning rate of the step just taken. */
  lr: number;
  /** Seconds since this call started (a resumed run counts from the resume). */
  elapsedSec: number;
  /** Estimated seconds to the end of the last epoch. */
  etaSec: number;
}

/** What happens around training: progress, per-epoch results, cancellation. */
export interface SupernetTrainingHooks {
  onProgress?: (progress: SupernetProgress) => void;
  /** After each epoch (and its checkpoint), with that epoch's mean figures. */
  onEpochEnd?: (summary: SupernetEpochSummary) => void;
  /** Aborting stops training before the next forward pass. */
  signal?: AbortSignal;
  /** One line per notable event (resume, a damaged checkpoint skipped). */
  log?: (line: string) => void;
}

export interface SupernetEpochSummary {
  /** 1-based. */
  epoch: number;
  loss: number;
  accuracy: number;
  seconds: number;
  /** Folder of the checkpoint written, if any. */
  checkpoint: string | null;
}

export interface SupernetTrainingResult {
  epochs: number;
  /** Optimiser steps taken over the whole run (resumed steps included). */
  steps: number;
  /** Epochs already done in the checkpoint resumed from (0 when none). */
  resumedFromEpoch: number;
  /** Mean loss and accuracy of the last epoch trained in this call. */
  loss: number;
  accuracy: number;
  seconds: number;
}

/** Training stopped because the loss became NaN, infinite or too large. */
export class TrainingDivergedError extends Error {
  constructor(
    readonly stage: string,
    readonly epoch: number,
    readonly step: number,
    readonly loss: number,
  ) {
    super(
      `${stage} training diverged at epoch ${epoch}, step ${step}: loss ${loss}. The last ` +
        'epoch checkpoint is intact; lower the learning rate and resume, or start over',
    );
    this.name = 'TrainingDivergedError';
  }
}

/** Training was cancelled through its AbortSignal. */
export class TrainingCancelledError extends Error {
  constructor(
    readonly stage: string,
    readonly epoch: number,
    readonly step: number,
  ) {
    super(`${stage} training cancelled at epoch ${epoch}, step ${step}`);
    this.name = 'AbortError';
  }
}

/** The trainer state stored in each checkpoint. */
interface SupernetCheckpointState {
  stage: 'supernet';
  epochsDone: number;
  globalStep: number;
  fairSampler: FairSamplerState;
  batchSampler: SamplerState;
  settings: { seed: number; batchSize: number; lr: number; epochs: number };
}

const CHECKPOINT_PREFIX = 'supernet';

function checkConfig(config: SupernetTrainingConfig, train: ImageSet): void {
  const positiveInts: [string, number | undefined][] = [
    ['epochs', config.epochs],
    ['batchSize', config.batchSize],
    ['microBatch', config.microBatch ?? config.batchSize],
    ['workers', config.workers ?? 1],
  ];
  for (const [name, value] of positiveInts) {
    if (!Number.isInteger(value) || (value as number) < 1) {
      throw new RangeError(`supernet training: ${name} must be a positive integer, got ${value}`);
    }
  }
  if (train.count < config.batchSize) {
    throw new RangeError(
      `supernet training: ${train.count} training images cannot fill a batch of ` +
        `${config.batchSize}; lower batchSize or use more images`,
    );
  }
  if (config.resume && !config.checkpointDir) {
    throw new RangeError('supernet training: resume needs a checkpointDir to resume from');
  }
}

/** Adds `grads` (consumed) into the running sum `into`. */
function accumulate(into: GradientMap, grads: GradientMap): void {
  for (const [name, g] of grads) {
    const prev = into.get(name);
    if (prev) {
      into.set(name, tf.add(prev, g));
      prev.dispose();
      g.dispose();
    } else {
      into.set(name, g);
    }
  }
}

interface PassResult {
  loss: number;
  correct: number;
}

/**
 * One forward/backward pass on this thread: adds its gradients to `sum` and
 * folds its BN statistics into the running statistics.
 */
function runPass(
  supernet: Supernet,
  train: ImageSet,
  indices: Int32Array,
  unit: PassUnit,
  smoothing: number,
  sum: GradientMap,
): PassResult {
  const { x, y } = toBatch(train, indices.subarray(unit.start, unit.end));
  try {
    const share = (unit.end - unit.start) / indices.length;
    const out = computePass(supernet, unit.arch, x, y, share, smoothing);
    accumulate(sum, out.grads);
    supernet.updateRunningStatistics(out.stats);
    return { loss: out.loss, correct: out.correct };
  } finally {
    x.dispose();
    y.dispose();
  }
}

/** Folds a replica's pass into `sum` and the running statistics, as runPass does. */
function foldReplicaPass(
  supernet: Supernet,
  unit: PassUnit,
  result: UnitResult,
  sum: GradientMap,
): PassResult {
  const bnByName = new Map<string, BatchNormParams>(
    supernet.batchNormsOf(unit.arch).map((bn) => [bn.name, bn]),
  );
  const stats = unpackStats(result.stats, bnByName);
  accumulate(sum, unpackGradients(supernet.store, result));
  supernet.updateRunningStatistics(stats);
  return { loss: result.loss, correct: result.correct };
}

/** The passes of one step: every architecture over every micro-batch, in order. */
function stepUnits(archs: Architecture[], batchSize: number, microBatch: number): PassUnit[] {
  const units: PassUnit[] = [];
  for (const arch of archs) {
    for (let start = 0; start < batchSize; start += microBatch) {
      units.push({ arch, start, end: Math.min(start + microBatch, batchSize) });
    }
  }
  return units;
}

/**
 * Contiguous shares of `count` passes for `threads` threads, this thread's
 * first; the first threads take one more when the count does not divide.
 * This thread takes the larger share because it starts at once, while a
 * replica first unpacks the weights and then packs every gradient (measured
 * on 2 cores, 5 passes at batch 128: 3 here + 2 there, 2.5 s a step; 2 + 3,
 * slower).
 */
export function shareOut(count: number, threads: number): number[] {
  const base = Math.floor(count / threads);
  const extra = count % threads;
  return Array.from({ length: threads }, (_, t) => base + (t < extra ? 1 : 0));
}

/** Rejects with a cancel error as soon as the signal aborts. */
function unlessAborted<T>(
  promise: Promise<T>,
  signal: AbortSignal | undefined,
  cancel: () => Error,
): Promise<T> {
  if (!signal) return promise;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(cancel());
    if (signal.aborted) onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** The engine's name of the active backend, for replicas to load the same one. */
function backendForReplicas(): BackendName {
  try {
    return activeBackend();
  } catch {
    return tf.getBackend() as BackendName;
  }
}

/**
 * Trains the supernet's weights with fair single-path sampling.
 *
 * ```ts
 * const result = await trainSupernet(net, split.train, {
 *   epochs: 3, batchSize: 64, lr: 0.045, momentum: 0.9, weightDecay: 4e-5,
 *   labelSmoothing: 0.1, seed: 1, checkpointDir: 'run/ckpt', resume: true,
 * }, { onProgress: (p) => console.log(p.epoch, p.step, p.loss) });
 * ```
 *
 * @param supernet the network to train (its variables change in place).
 * @param train training images (never the validation split).
 * @returns figures of the run.
 * @throws TrainingDivergedError when a pass's loss is NaN, infinite or above
 *   maxLoss (naming stage, epoch and step); TrainingCancelledError when the
 *   signal aborts; CheckpointError when the checkpoint to resume is corrupt.
 */
export async function trainSupernet(
  supernet: Supernet,
  train: ImageSet,
  config: SupernetTrainingConfig,
  hooks: SupernetTrainingHooks = {},
): Promise<SupernetTrainingResult> {
  checkConfig(config, train);
  const started = performance.now();
  const microBatch = Math.min(config.microBatch ?? config.batchSize, config.batchSize);
  const maxLoss = config.maxLoss ?? 10 * Math.log(supernet.classes);

  const batches = new BatchSampler(train.count, config.batchSize, config.seed);
  const fair = new FairSampler(supernet.preset, supernet.options, new Rng(config.seed).fork());
  const optimizer = new SgdOptimizer(supernet.store.trainables(), {
    momentum: config.momentum,
    weightDecay: config.weightDecay,
  });
  const stepsPerEpoch = batches.batchesPerEpoch;
  const totalSteps = stepsPerEpoch * config.epochs;
  const settings = {
    seed: config.seed,
    batchSize: config.batchSize,
    lr: config.lr,
    epochs: config.epochs,
  };

  let pool: SupernetReplicaPool | null = null;
  try {
    let epochsDone = 0;
    let globalStep = 0;
    if (config.resume && config.checkpointDir) {
      const restored = await loadNewestValidCheckpoint<SupernetCheckpointState>(
        config.checkpointDir,
        CHECKPOINT_PREFIX,
        { store: supernet.store, optimizer },
        (dir, reason) => hooks.log?.(`[supernet] skipping damaged checkpoint ${dir}: ${reason}`),
        (state, dir) => checkResumable(state, settings, dir),
      );
      if (restored) {
        const { state, dir } = restored;
        hooks.log?.(`[supernet] resuming from ${dir}`);
        fair.setState(state.fairSampler);
        batches.setState(state.batchSampler);
        epochsDone = state.epochsDone;
        globalStep = state.globalStep;
      }
    }
    const resumedFromEpoch = epochsDone;
    let last = { loss: NaN, accuracy: NaN };
    const workers = config.workers ?? 1;
    if (workers > 1 && epochsDone < config.epochs) {
      // Replicas change the speed, never the numbers: without them, train on.
      pool = await SupernetReplicaPool.start(supernet, train, workers - 1, backendForReplicas())
        .catch((err: Error) => {
          hooks.log?.(`[supernet] ${err.message}; training on this thread alone`);
          return null;
        });
      if (pool) hooks.log?.(`[supernet] ${workers} threads share each step's passes`);
    }

    for (let epoch = epochsDone; epoch < config.epochs; epoch++) {
      const epochStart = performance.now();
      let lossSum = 0;
      let passes = 0;
      let correct = 0;
      let seen = 0;

      for (let s = 0; s < stepsPerEpoch; s++) {
        const batch = batches.next();
        const archs = fair.nextBatch();
        const lr = cosineLearningRate(config.lr, globalStep, totalSteps);
        const sum: GradientMap = new Map();
        const units = stepUnits(archs, batch.indices.length, microBatch);
        const cancel = () => new TrainingCancelledError('supernet', epoch + 1, s + 1);
        const record = (unit: PassUnit, pass: PassResult) => {
          if (!Number.isFinite(pass.loss) || pass.loss > maxLoss) {
            throw new TrainingDivergedError('supernet', epoch + 1, s + 1, pass.loss);
          }
          const images = unit.end - unit.start;
          lossSum += pass.loss * images;
          passes += images;
          correct += pass.correct;
          seen += images;
        };

        try {
          // Replicas start on their shares first, then this thread runs its own.
          const shares = shareOut(units.length, pool ? pool.size + 1 : 1);
          const remote: { units: PassUnit[]; results: Promise<UnitResult[]> }[] = [];
          if (pool) {
            const weights = packWeights(supernet.store);
            let from = shares[0];
            shares.slice(1).forEach((count, r) => {
              const share = units.slice(from, from + count);
              from += count;
              const results = (pool as SupernetReplicaPool).run(
                r, weights, batch.indices, share, config.labelSmoothing,
              );
              // Awaited below; this keeps an early exit from leaving it unhandled.
              results.catch(() => undefined);
              remote.push({ units: share, results });
            });
          }

          for (const unit of units.slice(0, shares[0])) {
            await yieldToEventLoop();
            if (hooks.signal?.aborted) throw cancel();
            const pass = runPass(supernet, train, batch.indices, unit, config.labelSmoothing, sum);
            record(unit, pass);
          }

          for (const part of remote) {
            const results = await unlessAborted(part.results, hooks.signal, cancel);
            part.units.forEach((unit, i) => {
              record(unit, foldReplicaPass(supernet, unit, results[i], sum));
            });
          }
          optimizer.step(sum, lr);
        } finally {
          for (const g of sum.values()) g.dispose();
        }
        globalStep += 1;

        const elapsedSec = (performance.now() - started) / 1000;
        const doneHere = globalStep - resumedFromEpoch * stepsPerEpoch;
        hooks.onProgress?.({
          stage: 'supernet',
          epoch: epoch + 1,
          epochs: config.epochs,
          step: s + 1,
          steps: stepsPerEpoch,
          loss: lossSum / passes,
          accuracy: correct / seen,
          lr,
          elapsedSec,
          etaSec: (elapsedSec / doneHere) * (totalSteps - globalStep),
        });
        // Let timers, IPC and abort handlers run between steps.
        await new Promise((resolve) => setImmediate(resolve));
      }

      last = { loss: lossSum / passes, accuracy: correct / seen };
      let checkpoint: string | null = null;
      if (config.checkpointDir) {
        const state: SupernetCheckpointState = {
          stage: 'supernet',
          epochsDone: epoch + 1,
          globalStep,
          fairSampler: fair.getState(),
          batchSampler: batches.getState(),
          settings,
        };
        checkpoint = await saveCheckpoint(
          config.checkpointDir,
          checkpointLabel(CHECKPOINT_PREFIX, epoch + 1),
          { store: supernet.store, optimizer },
          state,
        );
      }
      hooks.onEpochEnd?.({
        epoch: epoch + 1,
        ...last,
        seconds: (performance.now() - epochStart) / 1000,
        checkpoint,
      });
    }

    return {
      epochs: config.epochs,
      steps: globalStep,
      resumedFromEpoch,
      ...last,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    optimizer.dispose();
    await pool?.terminate();
  }
}

function checkResumable(
  state: SupernetCheckpointState,
  settings: SupernetCheckpointState['settings'],
  dir: string,
): void {
  const saved = state.settings;
  const differs = (Object.keys(settings) as (keyof typeof settings)[]).filter(
    (k) => saved?.[k] !== settings[k],
  );
  if (state.stage !== 'supernet' || differs.length > 0) {
    const what = differs.map((k) => `${k} ${saved?.[k]} -> ${settings[k]}`).join(', ');
    throw new RangeError(
      `checkpoint ${dir} was written with other settings (${what}); resume with the ` +
        'same settings, or start over without resume',
    );
  }
}

/**
 * Messages between the supernet trainer and its replica threads. Everything
 * is plain data (typed arrays and JSON-like objects), so it crosses
 * postMessage by structured clone.
 */
import type { BackendName } from '../../backend.js';
import type { ImageSet } from '../../data/imageSet.js';
import type { SupernetOptions } from '../../nn/supernet.js';
import type { Architecture, Preset } from '../../space/types.js';

/** One pass of a training step: an architecture over images [start, end) of the batch. */
export interface PassUnit {
  arch: Architecture;
  start: number;
  end: number;
}

/** Builds a replica's supernet and hands it the training images. */
export interface InitMessage {
  kind: 'init';
  preset: Preset;
  classes: number;
  options: SupernetOptions;
  backend: BackendName;
  train: ImageSet;
}

/** Runs passes of one step on the given weights. */
export interface StepMessage {
  kind: 'step';
  /** Every trainable value, in the store's order, back to back. */
  weights: Float32Array;
  /** The step's batch (indices into the training images). */
  indices: Int32Array;
  units: PassUnit[];
  smoothing: number;
}

/** Batch statistics of one BN call, by the BNs' logical names. */
export interface StatArrays {
  names: string[];
  mean: Float32Array;
  variance: Float32Array;
  count: number;
}

/** What one pass produced, as arrays. */
export interface UnitResult {
  loss: number;
  correct: number;
  /** Names of the parameters with a gradient, in the order of `values`. */
  gradNames: string[];
  /** Their gradients, back to back. */
  gradValues: Float32Array;
  stats: StatArrays[];
}

export type ParentMessage = InitMessage | StepMessage;

export type ReplicaMessage =
  | { kind: 'ready' }
  | { kind: 'result'; units: UnitResult[] }
  | { kind: 'error'; message: string };

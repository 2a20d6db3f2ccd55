import { getPreset } from '../space/presets.js';
import { parseSearchConfig, type SearchConfig } from './config.js';

/**
 * Default search settings per preset. The fmnist defaults are sized so the
 * whole search (supernet, generator, sweep) finishes within ten minutes on
 * two CPU cores with the wasm backend; the paper's presets carry the paper's
 * settings (ImageNet schedule) for GPU workstations.
 */
const PAPER_SUPERNET = {
  epochs: 50,
  batchSize: 256,
  lr: 0.045,
  momentum: 0.9,
  weightDecay: 4e-5,
  labelSmoothing: 0.1,
};

const PAPER_GENERATOR = {
  epochs: 50,
  stepsPerEpoch: 100,
  targetsPerStep: 16,
  validationBatch: 128,
  lr: 1e-3,
  lambda: 10,
  tau0: 5,
  tauDecay: 0.95,
};

const PRESET_DEFAULTS: Record<string, Omit<SearchConfig, 'preset'>> = {
  fmnist: {
    seed: 1,
    forcedSampling: true,
    shadowBatchNorm: true,
    minExpansion: 2,
    validationPerClass: 50,
    supernet: {
      epochs: 2,
      batchSize: 64,
      trainSubset: 16000,
      workers: 2,
      lr: 0.1,
      momentum: 0.9,
      weightDecay: 4e-5,
      labelSmoothing: 0.1,
    },
    generator: {
      ...PAPER_GENERATOR,
      epochs: 20,
      stepsPerEpoch: 20,
      targetsPerStep: 8,
      validationBatch: 32,
    },
    prior: { kind: 'pool', seed: 1, size: 8 },
    sweepBudgets: 20,
    recalibrationBatches: 2,
  },
  cifar: {
    seed: 1,
    forcedSampling: true,
    shadowBatchNorm: true,
    minExpansion: 2,
    validationPerClass: 1000,
    supernet: { ...PAPER_SUPERNET, batchSize: 128 },
    generator: PAPER_GENERATOR,
    prior: { kind: 'pool', seed: 1, size: 8 },
    sweepBudgets: 20,
    recalibrationBatches: 10,
  },
  imagenet: {
    seed: 1,
    forcedSampling: true,
    shadowBatchNorm: true,
    minExpansion: 2,
    validationPerClass: 50,
    supernet: PAPER_SUPERNET,
    generator: PAPER_GENERATOR,
    prior: { kind: 'pool', seed: 1, size: 8 },
    sweepBudgets: 20,
    recalibrationBatches: 10,
  },
};

/** The default configuration of a preset (a fresh copy: safe to change). */
export function defaultSearchConfig(presetName: string): SearchConfig {
  getPreset(presetName);
  const defaults = PRESET_DEFAULTS[presetName];
  return parseSearchConfig(structuredClone({ preset: presetName, ...defaults }));
}

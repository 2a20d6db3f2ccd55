import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { initBackend } from '../main/engine/backend.js';
import { loadDataset } from '../main/engine/data/dataset.js';
import { subsetBalanced } from '../main/engine/data/split.js';
import { toBatch } from '../main/engine/data/batches.js';
import { folderIO } from '../main/engine/experiments/modelIO.js';
import { StandaloneNetwork } from '../main/engine/experiments/standalone.js';
import {
  CPU_SCRATCH_TRAINING,
  exportStandalone,
  standaloneAccuracy,
  trainFromScratch,
  trainStandalone,
} from '../main/engine/experiments/trainScratch.js';
import { Rng } from '../main/engine/rng.js';
import { paramCount, uniformArchitecture } from '../main/engine/space/costModel.js';
import { getPreset } from '../main/engine/space/presets.js';
import { randomArchitecture } from '../main/engine/space/sampling.js';
import type { ImageSet } from '../main/engine/data/imageSet.js';

const fmnist = getPreset('fmnist');
let train: ImageSet;
let test: ImageSet;

beforeAll(async () => {
  await initBackend('wasm');
  const loaded = loadDataset();
  train = subsetBalanced(loaded.train, 128, 1);
  test = subsetBalanced(loaded.test, 100, 1);
});

describe('the stand-alone network', () => {
  it('has exactly costModel.paramCount parameters, with and without FS', () => {
    const rng = new Rng(11);
    const archs = [
      randomArchitecture(fmnist, { forcedSampling: true, minExpansion: 2 }, rng),
      randomArchitecture(fmnist, { forcedSampling: false, minExpansion: 2 }, rng),
      uniformArchitecture(fmnist, ['7x7', '7x7', '7x7', '7x7', '7x7', '7x7']),
    ];
    for (const arch of archs) {
      const net = new StandaloneNetwork(arch, fmnist, 10, { seed: 1 });
      expect(net.paramCount()).toBe(paramCount(arch, fmnist, 10));
      net.dispose();
    }
  });

  it('matches method.md 8b on the cifar preset: 1,539,492 parameters for the smallest', () => {
    const cifar = getPreset('cifar');
    const arch = uniformArchitecture(cifar, ['3x3', '3x3', 'skip', 'skip', 'skip', 'skip']);
    const net = new StandaloneNetwork(arch, cifar, 100, { seed: 1 });
    expect(net.paramCount()).toBe(1_539_492);
    net.dispose();
  });
});

describe('training from scratch and the tfjs export', () => {
  let net: StandaloneNetwork;
  let dir: string;

  beforeAll(async () => {
    const arch = randomArchitecture(fmnist, { forcedSampling: false, minExpansion: 2 },
      new Rng(4));
    net = new StandaloneNetwork(arch, fmnist, 10, { seed: 2 });
    // One epoch moves the BN running statistics away from (0, 1), so the
    // export has to carry them for its predictions to match.
    await trainStandalone(net, train, { ...CPU_SCRATCH_TRAINING, epochs: 1, batchSize: 32 });
    dir = mkdtempSync(path.join(os.tmpdir(), 'sgnas-export-'));
    await exportStandalone(net, dir, { flopsM: 1, params: net.paramCount(), testAccuracy: 0 });
  });

  afterAll(() => net.dispose());

  it('writes model.json, weights.bin and the architecture JSON', () => {
    for (const f of ['model.json', 'weights.bin', 'architecture.json']) {
      expect(existsSync(path.join(dir, f))).toBe(true);
    }
    const saved = JSON.parse(readFileSync(path.join(dir, 'architecture.json'), 'utf8'));
    expect(saved.layers).toEqual(net.architecture.layers);
  });

  it('loads back to the same predictions as the in-memory network', async () => {
    const model = await tf.loadLayersModel(folderIO(dir));
    const { x, y } = toBatch(test, Array.from({ length: 32 }, (_, i) => i));
    const mine = net.forward(x, { training: false });
    const theirs = model.predict(x) as tf.Tensor;

    const gap = tf.max(tf.abs(tf.sub(mine, theirs))).dataSync()[0];
    const spread = tf.moments(mine).variance.dataSync()[0];
    expect(gap).toBeLessThan(1e-4);
    // Guards against a vacuous match of two constant outputs.
    expect(spread).toBeGreaterThan(1e-4);
    expect(standaloneAccuracy(model, test)).toBe(standaloneAccuracy(net, test));
    tf.dispose([x, y, mine, theirs]);
    model.dispose();
  });

  it('trainFromScratch reports test accuracy and parameters, releasing its tensors', async () => {
    const arch = uniformArchitecture(fmnist, ['3x3', '5x5', 'skip', 'skip', 'skip', 'skip']);
    const before = tf.memory().numTensors;
    const result = await trainFromScratch(arch, fmnist, { train, test, classes: 10 },
      { ...CPU_SCRATCH_TRAINING, epochs: 1, batchSize: 32 }, null);

    expect(result.params).toBe(paramCount(arch, fmnist, 10));
    expect(result.testImages).toBe(100);
    // Accuracy is a count of hits over the 100 test images.
    expect(result.testAccuracy * 100).toBeCloseTo(Math.round(result.testAccuracy * 100), 9);
    expect(result.epochLosses).toHaveLength(1);
    expect(Number.isFinite(result.epochLosses[0])).toBe(true);
    // The network and its optimiser are released.
    expect(tf.memory().numTensors).toBe(before);
  });
});

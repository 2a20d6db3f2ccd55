import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { initBackend } from '../main/engine/backend.js';
import {
  ALPHA_WIDTH,
  ArchitectureGenerator,
  MASKED_LOGIT,
  normalizeTargets,
} from '../main/engine/nn/generator.js';
import { gumbelNoise, gumbelSoftmax, softmaxWeights } from '../main/engine/nn/gumbel.js';
import { Rng } from '../main/engine/rng.js';
import { decodeAlpha } from '../main/engine/space/decode.js';
import { getPreset } from '../main/engine/space/presets.js';
import { SKIP_INDEX, type SpaceOptions } from '../main/engine/space/types.js';

const FS: SpaceOptions = { forcedSampling: true, minExpansion: 2 };

let dir = '';

beforeAll(async () => {
  await initBackend('wasm');
  dir = await mkdtemp(path.join(tmpdir(), 'sgnas-generator-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A batch of random one-hot priors [B, L, 24] (one op per sub-block). */
function randomPriors(batch: number, layers: number, seed: number): tf.Tensor3D {
  const rng = new Rng(seed);
  const data = new Float32Array(batch * layers * ALPHA_WIDTH);
  for (let row = 0; row < batch * layers * 6; row++) data[row * 4 + rng.int(3)] = 1;
  return tf.tensor3d(data, [batch, layers, ALPHA_WIDTH]);
}

describe('ArchitectureGenerator', () => {
  it('has 67,969 parameters for the paper space (19 layers), as the paper states', () => {
    const layers = getPreset('imagenet').layers.length;
    const generator = new ArchitectureGenerator(layers, 1);

    // Target branch 10*32*9 + 2*(32*32*9), prior branch 1*32*9 + 32*32*9, head and
    // 3 body convs 4*(32*32*9), output 32*9 + 1 bias = 67,969.
    expect(layers).toBe(19);
    expect(generator.parameterCount()).toBe(67_969);
    generator.dispose();
  });

  it('keeps the same parameter count for any number of layers (fully convolutional)', () => {
    const generator = new ArchitectureGenerator(getPreset('fmnist').layers.length, 1);
    expect(generator.parameterCount()).toBe(67_969);
    generator.dispose();
  });

  it('maps a prior and B targets to alpha of shape [B, L, 6, 4]', () => {
    const generator = new ArchitectureGenerator(6, 3);
    const priors = randomPriors(5, 6, 9);
    const targets = tf.tensor1d([0, 0.25, 0.5, 0.75, 1]);

    const alpha = generator.forward(priors, targets);
    expect(alpha.shape).toEqual([5, 6, 6, 4]);

    // A single [L, 24] prior is shared by the whole batch.
    const shared = generator.forward(tf.tensor2d(new Float32Array(6 * 24), [6, 24]), targets);
    expect(shared.shape).toEqual([5, 6, 6, 4]);

    tf.dispose([priors, targets, alpha, shared]);
    generator.dispose();
  });

  it('refuses a prior whose layer count does not match, naming both shapes', () => {
    const generator = new ArchitectureGenerator(6, 3);
    const prior = tf.zeros([5, ALPHA_WIDTH]);
    const targets = tf.tensor1d([0.5]);

    expect(() => generator.forward(prior, targets)).toThrow(/\[5,24\].*\[6, 24\]/);
    tf.dispose([prior, targets]);
    generator.dispose();
  });

  it('masks the skip logit of every sub-block below minExpansion and nothing else', () => {
    const options: SpaceOptions = { forcedSampling: false, minExpansion: 3 };
    const generator = new ArchitectureGenerator(4, 11, options);
    const priors = randomPriors(2, 4, 1);
    const targets = tf.tensor1d([0.1, 0.9]);

    const alpha = generator.forward(priors, targets);
    const data = alpha.dataSync();
    for (let i = 0; i < data.length; i += 4) {
      const subBlock = (i / 4) % 6;
      const skip = data[i + SKIP_INDEX];
      if (subBlock < 3) expect(skip).toBe(MASKED_LOGIT);
      else expect(skip).toBeGreaterThan(-1e3);
    }

    tf.dispose([priors, targets, alpha]);
    generator.dispose();
  });

  it('can never choose skip below minExpansion, whatever the noise or temperature', () => {
    const generator = new ArchitectureGenerator(6, 5, FS);
    const priors = randomPriors(8, 6, 2);
    const targets = tf.tensor1d([0, 0.1, 0.2, 0.4, 0.6, 0.8, 0.9, 1]);
    // Push every logit the generator emits towards skip, as strongly as a
    // trained generator could: only the mask stands between it and expansion 0.
    const skipBoost = tf.tensor1d([0, 0, 0, 50]);

    const alpha = tf.tidy(() => tf.add(generator.forward(priors, targets), skipBoost));
    const rng = new Rng(4);
    for (const tau of [5, 1, 0.1]) {
      const weights = gumbelSoftmax(alpha, tau, rng);
      const w = weights.dataSync();
      for (let row = 0; row < w.length / 4; row++) {
        const subBlock = row % 6;
        if (subBlock < 2) expect(w[row * 4 + SKIP_INDEX]).toBe(0);
        else expect(w[row * 4 + SKIP_INDEX]).toBeGreaterThan(0.5);
      }
      weights.dispose();
    }

    // Decoding respects it too: every layer keeps exactly minExpansion sub-blocks.
    const perSample = alpha.dataSync() as Float32Array;
    const first = decodeAlpha(perSample.slice(0, 6 * ALPHA_WIDTH), FS);
    for (const ops of first.layers) {
      expect(ops.slice(0, 2)).not.toContain('skip');
      expect(ops.slice(2)).toEqual(['skip', 'skip', 'skip', 'skip']);
    }

    tf.dispose([priors, targets, skipBoost, alpha]);
    generator.dispose();
  });

  it('builds identical weights from the same seed and different ones from another', () => {
    const a = new ArchitectureGenerator(6, 42);
    const b = new ArchitectureGenerator(6, 42);
    const c = new ArchitectureGenerator(6, 43);

    const wa = a.exportWeights();
    expect(b.exportWeights()).toEqual(wa);
    expect(c.exportWeights()[0].values).not.toEqual(wa[0].values);
    [a, b, c].forEach((g) => g.dispose());
  });

  it('does not leak tensors across forward passes', () => {
    const generator = new ArchitectureGenerator(6, 3);
    const priors = randomPriors(4, 6, 3);
    const targets = tf.tensor1d([0, 0.3, 0.6, 1]);
    generator.forward(priors, targets).dispose();

    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) generator.forward(priors, targets).dispose();
    expect(tf.memory().numTensors).toBe(before);

    tf.dispose([priors, targets]);
    generator.dispose();
  });

  it('saves and loads its weights exactly, and refuses a damaged file', async () => {
    const saved = new ArchitectureGenerator(6, 8);
    const loaded = new ArchitectureGenerator(6, 9);
    const folder = path.join(dir, 'roundtrip');

    await saved.save(folder);
    await loaded.load(folder);
    expect(loaded.exportWeights()).toEqual(saved.exportWeights());

    const binary = path.join(folder, 'generator.bin');
    const bytes = await readFile(binary);
    bytes[100] ^= 0xff;
    await writeFile(binary, bytes);
    await expect(loaded.load(folder)).rejects.toThrow(/does not match its manifest/);

    [saved, loaded].forEach((g) => g.dispose());
  });

  it('refuses weights saved for a different number of layers', async () => {
    const saved = new ArchitectureGenerator(6, 8);
    const other = new ArchitectureGenerator(19, 8);
    const folder = path.join(dir, 'layers');

    await saved.save(folder);
    await expect(other.load(folder)).rejects.toThrow(/6 layers, this one has 19/);
    [saved, other].forEach((g) => g.dispose());
  });
});

describe('normalizeTargets', () => {
  it('maps the constraint interval onto [0, 1]', () => {
    const out = normalizeTargets([1.05, 1.375, 1.7], { lowM: 1.05, highM: 1.7 });
    expect(Array.from(out)).toEqual([0, expect.closeTo(0.5, 6), expect.closeTo(1, 6)]);
  });

  it('refuses an empty interval', () => {
    expect(() => normalizeTargets([1], { lowM: 2, highM: 2 })).toThrow(/lowM < highM/);
  });
});

describe('gumbelSoftmax', () => {
  const logits = () => tf.tensor2d([[1, 2, 0.5, -1], [0, 0, 0, 0], [3, -2, 1, MASKED_LOGIT]]);

  it('gives rows that sum to 1', () => {
    const x = logits();
    const w = gumbelSoftmax(x, 5, new Rng(1));
    const sums = tf.sum(w, -1).dataSync();
    for (const s of sums) expect(s).toBeCloseTo(1, 5);
    tf.dispose([x, w]);
  });

  it('is seed-stable: the same seed gives the same weights, another seed others', () => {
    const x = logits();
    const a = gumbelSoftmax(x, 1, new Rng(7)).dataSync();
    const b = gumbelSoftmax(x, 1, new Rng(7)).dataSync();
    const c = gumbelSoftmax(x, 1, new Rng(8)).dataSync();
    expect(Array.from(b)).toEqual(Array.from(a));
    expect(Array.from(c)).not.toEqual(Array.from(a));
    x.dispose();
  });

  it('equals softmax((logits + g) / tau) with g the seeded Gumbel noise', () => {
    const x = logits();
    const noise = gumbelNoise(12, new Rng(3));
    const expected = tf.softmax(tf.div(tf.add(x, tf.tensor2d(noise, [3, 4])), 2)).dataSync();
    const got = gumbelSoftmax(x, 2, new Rng(3)).dataSync();
    for (let i = 0; i < 12; i++) expect(got[i]).toBeCloseTo(expected[i], 6);
    x.dispose();
  });

  it('approaches one-hot as the temperature falls', () => {
    const x = logits();
    const w = gumbelSoftmax(x, 0.01, new Rng(5));
    const maxes = tf.max(w, -1).dataSync();
    for (const m of maxes) expect(m).toBeGreaterThan(0.99);
    tf.dispose([x, w]);
  });

  it('refuses a temperature that is not positive', () => {
    const x = logits();
    expect(() => gumbelSoftmax(x, 0, new Rng(1))).toThrow(/positive finite number, got 0/);
    x.dispose();
  });

  it('has a noise-free form for evaluation that is plain softmax', () => {
    const x = logits();
    const w = softmaxWeights(x).dataSync();
    const expected = tf.softmax(x).dataSync();
    for (let i = 0; i < 12; i++) expect(w[i]).toBeCloseTo(expected[i], 6);
    x.dispose();
  });
});

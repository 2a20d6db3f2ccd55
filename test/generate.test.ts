import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import { initBackend } from '../main/engine/backend.js';
import { ArchitectureGenerator } from '../main/engine/nn/generator.js';
import {
  checkBudgets,
  evaluateSweep,
  generateArchitectures,
  sweepBudgets,
  type GeneratedArchitecture,
} from '../main/engine/pipeline/generate.js';
import { flopsM, flopsRangeM, paramCount } from '../main/engine/space/costModel.js';
import { getPreset } from '../main/engine/space/presets.js';
import { PriorPool, randomPrior } from '../main/engine/space/priors.js';
import type { SpaceOptions } from '../main/engine/space/types.js';

const OPTIONS: SpaceOptions = { forcedSampling: true, minExpansion: 2 };
const preset = getPreset('fmnist');

beforeAll(async () => {
  await initBackend('wasm');
});

describe('generateArchitectures', () => {
  let generator: ArchitectureGenerator;

  beforeAll(() => {
    generator = new ArchitectureGenerator(preset.layers.length, 21, OPTIONS);
  });

  afterAll(() => generator.dispose());

  it('generates every budget in ONE generator forward pass', async () => {
    const forward = vi.spyOn(generator, 'forward');
    const budgets = sweepBudgets(preset.constraint, 24);

    const { results, forwardMs } = await generateArchitectures(
      generator, preset, OPTIONS, budgets, randomPrior(preset, OPTIONS, 1),
    );

    expect(forward).toHaveBeenCalledTimes(1);
    // The single call carried all 24 targets as one batch.
    expect(forward.mock.calls[0][1].shape).toEqual([24]);
    expect(results).toHaveLength(24);
    expect(forwardMs).toBeGreaterThan(0);
    forward.mockRestore();
  });

  it('reports exact FLOPs and parameters of the decoded architectures', async () => {
    const budgets = [preset.constraint.lowM, preset.constraint.highM];
    const { results } = await generateArchitectures(
      generator, preset, OPTIONS, budgets, randomPrior(preset, OPTIONS, 1), { classes: 10 },
    );

    for (const [i, r] of results.entries()) {
      expect(r.targetM).toBe(budgets[i]);
      expect(r.flopsM).toBe(flopsM(r.architecture, preset));
      expect(r.params).toBe(paramCount(r.architecture, preset, 10));
      // Decoding never lets a sub-block below minExpansion skip.
      for (const ops of r.architecture.layers) expect(ops.slice(0, 2)).not.toContain('skip');
    }
  });

  it('gives the same architectures for the same generator seed and budgets', async () => {
    const twin = new ArchitectureGenerator(preset.layers.length, 21, OPTIONS);
    const budgets = sweepBudgets(preset.constraint, 8);
    const prior = randomPrior(preset, OPTIONS, 4);

    const a = await generateArchitectures(generator, preset, OPTIONS, budgets, prior);
    const b = await generateArchitectures(twin, preset, OPTIONS, budgets, prior);
    expect(b.results.map((r) => r.architecture)).toEqual(a.results.map((r) => r.architecture));
    twin.dispose();
  });

  it('feeds each budget the nearest prior of a pool', async () => {
    const pool = PriorPool.build(preset, OPTIONS, [0.9, 1.5], { seed: 3 });
    const original = generator.forward.bind(generator);
    let priors: number[][] = [];
    const forward = vi.spyOn(generator, 'forward').mockImplementation((prior, targets) => {
      priors = prior.arraySync() as number[][];
      return original(prior, targets);
    });
    await generateArchitectures(generator, preset, OPTIONS, [0.85, 1.6], pool);

    const expected = [pool.nearest(0.85), pool.nearest(1.6)].map((e) => e.prior);
    expect(expected[0]).not.toEqual(expected[1]);
    // Row i is the one-hot of prior i: a 1 at op index of every sub-block.
    const opIndex = ['3x3', '5x5', '7x7', 'skip'];
    priors.forEach((row, i) => {
      const ones = row.flatMap((v, j) => (v === 1 ? [j] : []));
      const want = expected[i].layers.flatMap((ops, l) =>
        ops.map((op, s) => (l * 6 + s) * 4 + opIndex.indexOf(op)),
      );
      expect(ones).toEqual(want);
    });
    forward.mockRestore();
  });

  it('refuses a budget outside the FLOPs range, naming it and the range', async () => {
    const { minM, maxM } = flopsRangeM(preset, OPTIONS);
    const prior = randomPrior(preset, OPTIONS, 1);

    await expect(
      generateArchitectures(generator, preset, OPTIONS, [1.0, maxM + 1], prior),
    ).rejects.toThrow(
      new RegExp(`budget ${maxM + 1} MFLOPs \\(number 2 of 2\\) is outside preset 'fmnist'`),
    );
    expect(() => checkBudgets([minM / 2], preset, OPTIONS)).toThrow(
      /FLOPs range 0\.4956\.\.1\.878 MFLOPs/,
    );
  });

  it('does not leak tensors', async () => {
    const prior = randomPrior(preset, OPTIONS, 1);
    await generateArchitectures(generator, preset, OPTIONS, [1, 1.4], prior);
    const before = tf.memory().numTensors;
    await generateArchitectures(generator, preset, OPTIONS, [1, 1.2, 1.4], prior);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses accuracy estimates without a supernet and validation split', async () => {
    const prior = randomPrior(preset, OPTIONS, 1);
    await expect(
      generateArchitectures(generator, preset, OPTIONS, [1], prior, { scoreAccuracy: true }),
    ).rejects.toThrow(/need the supernet and the validation split/);
  });
});

describe('evaluateSweep', () => {
  const arch = { layers: [] };
  const point = (targetM: number, flops: number): GeneratedArchitecture => ({
    targetM, architecture: arch, flopsM: flops, params: 0,
  });

  it('gives tau-b 1 and Pearson near 1 when FLOPs rise with every target', () => {
    const sweep = evaluateSweep([point(1, 1.1), point(2, 1.9), point(3, 3.2), point(4, 3.9)]);
    expect(sweep.kendallTau.value).toBe(1);
    expect(sweep.pearson.value).toBeGreaterThan(0.98);
    expect(sweep.meanAbsErrorM).toBeCloseTo((0.1 + 0.1 + 0.2 + 0.1) / 4, 10);
    expect(sweep.overBudget).toBe(2);
  });

  it('reports no correlation (undefined, not NaN) when every budget got the same FLOPs', () => {
    const sweep = evaluateSweep([point(1, 2), point(2, 2), point(3, 2)]);
    expect(sweep.kendallTau.value).toBeUndefined();
    expect(sweep.pearson.value).toBeUndefined();
  });
});

describe('sweepBudgets', () => {
  it('spaces budgets evenly with both ends included', () => {
    expect(sweepBudgets({ lowM: 1, highM: 2 }, 5)).toEqual([1, 1.25, 1.5, 1.75, 2]);
  });
});

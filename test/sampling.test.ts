import { describe, expect, it } from 'vitest';

import { Rng } from '../main/engine/rng.js';
import { expansionRate, validateArchitecture } from '../main/engine/space/architecture.js';
import { flopsM, flopsRangeM } from '../main/engine/space/costModel.js';
import { decodeAlpha } from '../main/engine/space/decode.js';
import { getPreset } from '../main/engine/space/presets.js';
import {
  PriorPool,
  priorToTensorData,
  randomPrior,
} from '../main/engine/space/priors.js';
import {
  FairSampler,
  randomArchitecture,
  tiltedRandomArchitecture,
} from '../main/engine/space/sampling.js';
import { SUB_BLOCK_OPS, type SpaceOptions } from '../main/engine/space/types.js';

const FS: SpaceOptions = { forcedSampling: true, minExpansion: 2 };
const FREE: SpaceOptions = { forcedSampling: false, minExpansion: 2 };
const cifar = getPreset('cifar');
const fmnist = getPreset('fmnist');

describe('randomArchitecture', () => {
  it('always validates, with and without forcedSampling', () => {
    const rng = new Rng(1);
    for (const options of [FS, FREE, { forcedSampling: false, minExpansion: 4 }]) {
      for (let i = 0; i < 300; i++) {
        validateArchitecture(randomArchitecture(cifar, options, rng), cifar, options);
      }
    }
  });

  it('draws every expansion rate 2..6 about equally often', () => {
    const rng = new Rng(2);
    const counts = new Map<number, number>();
    for (let i = 0; i < 400; i++) {
      for (const ops of randomArchitecture(cifar, FREE, rng).layers) {
        const e = expansionRate(ops);
        counts.set(e, (counts.get(e) ?? 0) + 1);
      }
    }
    // 7,600 layer draws, 1,520 expected per rate; sd about 35, so 150 is > 4 sd.
    expect([...counts.keys()].sort()).toEqual([2, 3, 4, 5, 6]);
    for (const count of counts.values()) expect(Math.abs(count - 1520)).toBeLessThan(150);
  });

  it('without forcedSampling also skips in the middle of a layer', () => {
    const rng = new Rng(3);
    const layers = Array.from({ length: 50 }, () => randomArchitecture(cifar, FREE, rng).layers)
      .flat();
    const middleSkip = layers.some((ops) => ops[2] === 'skip' && ops[5] !== 'skip');
    expect(middleSkip).toBe(true);
  });

  it('the same rng state gives the same architecture', () => {
    expect(randomArchitecture(cifar, FS, new Rng(42))).toEqual(
      randomArchitecture(cifar, FS, new Rng(42)),
    );
  });

  it('tilt 0 gives the smallest and tilt 1 the largest architecture', () => {
    const rng = new Rng(4);
    const { minM, maxM } = flopsRangeM(cifar, FS);
    expect(flopsM(tiltedRandomArchitecture(cifar, FS, rng, 0), cifar)).toBeCloseTo(minM, 9);
    expect(flopsM(tiltedRandomArchitecture(cifar, FS, rng, 1), cifar)).toBeCloseTo(maxM, 9);
    expect(() => tiltedRandomArchitecture(cifar, FS, rng, 1.5)).toThrow(/got 1.5/);
  });
});

describe('FairSampler', () => {
  it('each batch deals every expansion rate 2..6 exactly once to every layer', () => {
    for (const options of [FS, FREE]) {
      const sampler = new FairSampler(cifar, options, new Rng(5));
      for (let step = 0; step < 50; step++) {
        const batch = sampler.nextBatch();
        expect(batch).toHaveLength(5);
        for (let l = 0; l < cifar.layers.length; l++) {
          const rates = batch.map((arch) => expansionRate(arch.layers[l])).sort();
          expect(rates).toEqual([2, 3, 4, 5, 6]);
        }
        for (const arch of batch) validateArchitecture(arch, cifar, options);
      }
    }
  });

  it('the rates are shuffled, not dealt in a fixed order', () => {
    const batch = new FairSampler(cifar, FS, new Rng(6)).nextBatch();
    const firstArchRates = new Set(batch[0].layers.map(expansionRate));
    expect(firstArchRates.size).toBeGreaterThan(1);
  });

  it('over 3,000 steps each (layer, sub-block) sees each kernel equally often (within 1)', () => {
    for (const options of [FS, FREE]) {
      const sampler = new FairSampler(cifar, options, new Rng(7));
      const counts = cifar.layers.map(() => Array.from({ length: 6 }, () => [0, 0, 0]));
      for (let step = 0; step < 3000; step++) {
        for (const arch of sampler.nextBatch()) {
          arch.layers.forEach((ops, l) =>
            ops.forEach((op, s) => {
              if (op !== 'skip') counts[l][s][SUB_BLOCK_OPS.indexOf(op)]++;
            }),
          );
        }
      }

      for (const layer of counts) {
        for (const kernels of layer) {
          expect(Math.max(...kernels) - Math.min(...kernels)).toBeLessThanOrEqual(1);
        }
      }
      // With FS, sub-block 5 is kept only at e = 6, once per step: 1,000 per kernel.
      if (options.forcedSampling) expect(counts[0][5]).toEqual([1000, 1000, 1000]);
    }
  });

  it('a state saved through JSON continues identically in a fresh sampler', () => {
    for (const options of [FS, FREE]) {
      const original = new FairSampler(fmnist, options, new Rng(8));
      for (let i = 0; i < 7; i++) original.nextBatch();
      const saved = JSON.stringify(original.getState());
      const continued = Array.from({ length: 5 }, () => original.nextBatch());

      const resumed = new FairSampler(fmnist, options, new Rng(999));
      resumed.setState(JSON.parse(saved));
      expect(Array.from({ length: 5 }, () => resumed.nextBatch())).toEqual(continued);
    }
  });

  it('refuses a state saved for another preset', () => {
    const state = new FairSampler(cifar, FS, new Rng(9)).getState();
    const sampler = new FairSampler(fmnist, FS, new Rng(9));
    expect(() => sampler.setState(state)).toThrow(/does not fit preset 'fmnist'/);
  });
});

describe('priors', () => {
  it('randomPrior is a valid architecture fixed by its seed', () => {
    const a = randomPrior(cifar, FS, 10);
    validateArchitecture(a, cifar, FS);
    expect(randomPrior(cifar, FS, 10)).toEqual(a);
    expect(randomPrior(cifar, FS, 11)).not.toEqual(a);
  });

  it('priorToTensorData one-hot encodes each sub-block\'s op in a [L, 24] layout', () => {
    const prior = randomPrior(cifar, FREE, 12);
    const data = priorToTensorData(prior);
    expect(data).toHaveLength(19 * 24);
    prior.layers.forEach((ops, l) =>
      ops.forEach((op, s) => {
        const row = Array.from(data.subarray(l * 24 + s * 4, l * 24 + s * 4 + 4));
        const expected = [0, 0, 0, 0];
        expected[SUB_BLOCK_OPS.indexOf(op)] = 1;
        expect(row).toEqual(expected);
      }),
    );
    expect(decodeAlpha(data, FREE)).toEqual(prior);
  });

  it('a pool holds one prior within tolerance of each target, edges included', () => {
    for (const preset of [cifar, getPreset('imagenet')]) {
      const { lowM, highM } = preset.constraint;
      const targets = [lowM, (lowM + highM) / 2, highM];
      const pool = PriorPool.build(preset, FS, targets, { seed: 13 });
      const toleranceM = 0.01 * (highM - lowM);
      expect(pool.entries.map((e) => e.targetM)).toEqual(targets);
      for (const entry of pool.entries) {
        validateArchitecture(entry.prior, preset, FS);
        expect(entry.flopsM).toBeCloseTo(flopsM(entry.prior, preset), 9);
        expect(Math.abs(entry.flopsM - entry.targetM)).toBeLessThanOrEqual(toleranceM);
      }
    }
  });

  it('nearest returns the prior whose FLOPs are closest to the target', () => {
    const pool = PriorPool.build(cifar, FS, [80, 100, 120], { seed: 14, toleranceM: 0.5 });
    const [low, mid, high] = pool.entries;
    expect(pool.nearest(104)).toBe(mid);
    expect(pool.nearest(60)).toBe(low);
    expect(pool.nearest(500)).toBe(high);
  });

  it('a target outside the preset\'s FLOPs range is refused at once, naming the range', () => {
    expect(() => PriorPool.build(cifar, FS, [40], { seed: 15 })).toThrow(
      /40 MFLOPs is outside preset 'cifar' range 51.290112..171.761664/,
    );
  });

  it('an unreachable tolerance fails after maxTries with the closest FLOPs found', () => {
    // FLOPs are whole MACs / 1e6, so no architecture lies within 1e-8 M of x.xxxxxx5.
    const build = () =>
      PriorPool.build(cifar, FS, [100.0000005], { seed: 16, toleranceM: 1e-8, maxTries: 50 });
    expect(build).toThrow(/no random prior within 1e-8 MFLOPs of 100.0000005 MFLOPs after 50/);
    expect(build).toThrow(/closest: \d+\.\d+ MFLOPs\); raise toleranceM or maxTries/);
  });

  it('a pool round-trips through JSON and refuses priors of another preset', () => {
    const pool = PriorPool.build(fmnist, FS, [0.9, 1.4], { seed: 17 });
    const saved = JSON.parse(JSON.stringify(pool.toJSON()));
    expect(PriorPool.fromJSON(saved, fmnist, FS).entries).toEqual(pool.entries);
    expect(() => PriorPool.fromJSON(saved, cifar, FS)).toThrow(/19 searchable layers/);
  });
});

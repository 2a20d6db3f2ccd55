import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';

import { Rng } from '../main/engine/rng.js';
import {
  buildCostTable,
  expectedFlopsM,
  fixedFlopsM,
  flopsM,
  flopsRangeM,
  paramCount,
  uniformArchitecture,
  type CostTable,
} from '../main/engine/space/costModel.js';
import { getPreset } from '../main/engine/space/presets.js';
import { priorToTensorData } from '../main/engine/space/priors.js';
import { randomArchitecture } from '../main/engine/space/sampling.js';
import {
  DEFAULT_SPACE_OPTIONS,
  kernelSize,
  type Architecture,
  type SubBlockOp,
} from '../main/engine/space/types.js';

const cifar = getPreset('cifar');
const imagenet = getPreset('imagenet');
const FS = DEFAULT_SPACE_OPTIONS;
const FREE = { forcedSampling: false, minExpansion: 2 };

const SMALLEST: SubBlockOp[] = ['3x3', '3x3', 'skip', 'skip', 'skip', 'skip'];
const ALL_3: SubBlockOp[] = new Array(6).fill('3x3');
const ALL_7: SubBlockOp[] = new Array(6).fill('7x7');

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Row-major [B, L, 6, 4] one-hot probabilities of a batch of architectures. */
function oneHotBatch(archs: Architecture[]): tf.Tensor4D {
  const rows = archs.map(priorToTensorData);
  const data = new Float32Array(rows.reduce((n, r) => n + r.length, 0));
  rows.forEach((r, b) => data.set(r, b * r.length));
  return tf.tensor4d(data, [archs.length, archs[0].layers.length, 6, 4]);
}

describe('FLOPs: method.md reference table (conv MACs, M)', () => {
  const table = [
    // [preset, fixed part, all 7x7, smallest, all 3x3]
    [cifar, 8.257536, 171.761664, 51.290112, 137.355264],
    [imagenet, 40.943616, 556.125696, 177.547776, 450.756096],
  ] as const;

  for (const [preset, fixedM, all7M, smallestM, all3M] of table) {
    it(`${preset.name}: fixed part, all 7x7, smallest and all 3x3 match to 1e-6`, () => {
      expect(Math.abs(fixedFlopsM(preset) - fixedM)).toBeLessThan(1e-6);
      expect(Math.abs(flopsM(uniformArchitecture(preset, ALL_7), preset) - all7M)).toBeLessThan(
        1e-6,
      );
      expect(
        Math.abs(flopsM(uniformArchitecture(preset, SMALLEST), preset) - smallestM),
      ).toBeLessThan(1e-6);
      expect(Math.abs(flopsM(uniformArchitecture(preset, ALL_3), preset) - all3M)).toBeLessThan(
        1e-6,
      );
    });

    it(`${preset.name}: flopsRangeM spans the smallest to the all-7x7 architecture`, () => {
      const { minM, maxM } = flopsRangeM(preset, FS);
      expect(Math.abs(minM - smallestM)).toBeLessThan(1e-6);
      expect(Math.abs(maxM - all7M)).toBeLessThan(1e-6);
    });
  }

  it('the fmnist fixed part is stem + first block + head by hand', () => {
    // Stem 3x3, 1 -> 16 at 14x14: 196*16*9 = 28,224; first block dw 3x3 on 16 at
    // 14x14: 28,224; its 1x1 16 -> 8: 196*128 = 25,088; head 1x1 32 -> 128 at 4x4:
    // 16*4096 = 65,536. Sum 147,072 MACs.
    expect(fixedFlopsM(getPreset('fmnist'))).toBeCloseTo(0.147072, 9);
  });

  it('a minExpansion of 3 raises the smallest architecture by one 3x3 sub-block per layer', () => {
    const three = flopsRangeM(cifar, { forcedSampling: true, minExpansion: 3 }).minM;
    const layer: SubBlockOp[] = ['3x3', '3x3', '3x3', 'skip', 'skip', 'skip'];
    const expected = flopsM(uniformArchitecture(cifar, layer), cifar);
    expect(three).toBeCloseTo(expected, 9);
  });

  it('kernel order and skip position do not change FLOPs, only the kept kernels do', () => {
    const a = uniformArchitecture(cifar, ['7x7', '3x3', 'skip', '5x5', 'skip', 'skip']);
    const b = uniformArchitecture(cifar, ['3x3', '5x5', '7x7', 'skip', 'skip', 'skip']);
    expect(flopsM(a, cifar)).toBeCloseTo(flopsM(b, cifar), 9);
  });

  it('flopsM refuses an architecture that does not fit the preset', () => {
    expect(() => flopsM(uniformArchitecture(imagenet, ALL_3), getPreset('fmnist'))).toThrow(
      /5 searchable layers, but the architecture has 19/,
    );
  });
});

describe('parameter count of the stand-alone network (method.md 8b)', () => {
  it('cifar, 100 classes, every layer "0,1 3x3, rest skip" has 1,539,492 parameters', () => {
    expect(paramCount(uniformArchitecture(cifar, SMALLEST), cifar, 100)).toBe(1_539_492);
  });

  it('cifar, 100 classes, every layer all 7x7 has 3,937,124 parameters', () => {
    expect(paramCount(uniformArchitecture(cifar, ALL_7), cifar, 100)).toBe(3_937_124);
  });

  it('each extra class adds one linear row (1280 weights) and one bias', () => {
    const arch = uniformArchitecture(cifar, SMALLEST);
    expect(paramCount(arch, cifar, 101) - paramCount(arch, cifar, 100)).toBe(1281);
  });

  it('refuses a class count that is not a positive integer', () => {
    expect(() => paramCount(uniformArchitecture(cifar, SMALLEST), cifar, 0)).toThrow(/got 0/);
  });
});

describe('cost table', () => {
  /** FLOPs from the table alone, as the generator's decoder reads them. */
  function tableFlopsM(table: CostTable, arch: Architecture): number {
    return arch.layers.reduce((sum, ops, l) => {
      const c = table.perLayer[l];
      let layer = 0;
      for (const op of ops) {
        if (op === 'skip') continue;
        const k = [3, 5, 7].indexOf(kernelSize(op));
        layer += c.expandPerSubBlockM + c.projectPerSubBlockM + c.depthwiseM[k];
      }
      return sum + layer;
    }, table.fixedM);
  }

  it('holds the per-sub-block costs of each layer (cifar layer 3 by hand)', () => {
    // Layer 3 (1-based): 32 -> 40, stride 2, 32x32 -> 16x16.
    const c = buildCostTable(cifar).perLayer[2];
    expect(c.expandPerSubBlockM).toBeCloseTo((32 * 32 * 1024) / 1e6, 12);
    expect(c.projectPerSubBlockM).toBeCloseTo((32 * 40 * 256) / 1e6, 12);
    expect(c.depthwiseM[0]).toBeCloseTo((32 * 9 * 256) / 1e6, 12);
    expect(c.depthwiseM[2]).toBeCloseTo((32 * 49 * 256) / 1e6, 12);
  });

  it('summing the table gives flopsM for random architectures of every preset', () => {
    const rng = new Rng(5);
    for (const name of ['cifar', 'imagenet', 'fmnist']) {
      const preset = getPreset(name);
      const table = buildCostTable(preset);
      for (let i = 0; i < 30; i++) {
        const arch = randomArchitecture(preset, FREE, rng);
        expect(tableFlopsM(table, arch)).toBeCloseTo(flopsM(arch, preset), 9);
      }
    }
  });
});

describe('expected cost (paper Eq. 9)', () => {
  it('one-hot probabilities give the flopsM of the architecture (to float32 precision)', () => {
    const rng = new Rng(9);
    for (const name of ['cifar', 'imagenet', 'fmnist']) {
      const preset = getPreset(name);
      const archs = Array.from({ length: 8 }, () => randomArchitecture(preset, FREE, rng));
      const probs = oneHotBatch(archs);
      const expected = expectedFlopsM(probs, buildCostTable(preset));
      const values = expected.dataSync();
      tf.dispose([probs, expected]);

      // float32 carries about 7 significant digits of values up to 556 M.
      archs.forEach((arch, b) => {
        const exact = flopsM(arch, preset);
        expect(Math.abs(values[b] - exact) / exact).toBeLessThan(2e-6);
      });
    }
  });

  it('uniform probabilities give the mean of the per-op costs (expected expansion 4.5)', () => {
    const table = buildCostTable(cifar);
    const probs = tf.fill([1, 19, 6, 4], 0.25);
    const value = expectedFlopsM(probs, table).dataSync()[0];
    probs.dispose();

    // Each sub-block is kept with p = 0.75, so 4.5 sub-blocks of 1x1 cost, and each
    // kernel with p = 0.25.
    const byHand = table.perLayer.reduce(
      (sum, c) =>
        sum +
        4.5 * (c.expandPerSubBlockM + c.projectPerSubBlockM) +
        6 * 0.25 * (c.depthwiseM[0] + c.depthwiseM[1] + c.depthwiseM[2]),
      table.fixedM,
    );
    expect(Math.abs(value - byHand) / byHand).toBeLessThan(2e-6);
  });

  it('its gradient w.r.t. the probabilities matches central differences', () => {
    const preset = getPreset('fmnist');
    const table = buildCostTable(preset);
    const shape: [number, number, number, number] = [2, preset.layers.length, 6, 4];
    const probs = tf.tidy(() => tf.softmax(tf.randomNormal(shape, 0, 1, 'float32', 3)));
    const cost = (p: tf.Tensor) => expectedFlopsM(p, table).sum();
    const analytic = tf.tidy(() => tf.grad(cost)(probs));
    const grad = analytic.dataSync();
    const base = probs.dataSync();

    // The cost is linear in p, so a large step loses nothing to curvature and
    // keeps float32 rounding (about 1e-6 of the value) small against the step.
    const h = 0.05;
    for (let i = 0; i < base.length; i++) {
      const at = (delta: number) =>
        tf.tidy(() => {
          const shifted = Float32Array.from(base);
          shifted[i] += delta;
          return cost(tf.tensor4d(shifted, shape)).dataSync()[0];
        });
      const numeric = (at(h) - at(-h)) / (2 * h);
      expect(Math.abs(grad[i] - numeric)).toBeLessThan(1e-4 + 1e-3 * Math.abs(numeric));
    }
    tf.dispose([probs, analytic]);
  });

  it('a skip probability lowers the cost by both 1x1 costs of its layer', () => {
    const table = buildCostTable(cifar);
    const grad = tf.tidy(() => {
      const probs = tf.fill([1, 19, 6, 4], 0.25);
      return tf.grad((p: tf.Tensor) => expectedFlopsM(p, table).sum())(probs);
    });
    const g = grad.arraySync() as number[][][][];
    grad.dispose();

    const c = table.perLayer[5];
    expect(g[0][5][2][3]).toBeCloseTo(-(c.expandPerSubBlockM + c.projectPerSubBlockM), 5);
    expect(g[0][5][2][1]).toBeCloseTo(c.depthwiseM[1], 5);
  });

  it('refuses probabilities of the wrong shape, quoting the shape seen', () => {
    const probs = tf.zeros([2, 18, 6, 4]);
    expect(() => expectedFlopsM(probs, buildCostTable(cifar))).toThrow(
      /\[B, 19, 6, 4\], got \[2, 18, 6, 4\]/,
    );
    probs.dispose();
  });

  it('leaves no tensors behind after the table\'s constants are cached', () => {
    const table = buildCostTable(cifar);
    const probs = tf.fill([4, 19, 6, 4], 0.25);
    expectedFlopsM(probs, table).dispose();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 20; i++) expectedFlopsM(probs, table).dispose();
    expect(tf.memory().numTensors).toBe(before);
    probs.dispose();
  });

  it('the cached constants survive a caller\'s tidy scope', () => {
    const table = buildCostTable(cifar);
    const probs = tf.fill([1, 19, 6, 4], 0.25);
    const first = tf.tidy(() => expectedFlopsM(probs, table).dataSync()[0]);
    const second = expectedFlopsM(probs, table);
    expect(second.dataSync()[0]).toBe(first);
    tf.dispose([probs, second]);
  });
});

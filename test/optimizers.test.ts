/**
 * The optimisers follow PyTorch's update rules, so the paper's settings carry
 * over: each expectation below is worked out by hand from those rules.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';

import { initBackend } from '../main/engine/backend.js';
import {
  AdamOptimizer,
  SgdOptimizer,
  type GradientMap,
  type OptimizedParam,
} from '../main/engine/train/optimizers.js';
import { cosineLearningRate, gumbelTemperature } from '../main/engine/train/schedule.js';

let created = 0;

/** A parameter; tfjs variable names must be unique, logical names need not be. */
function param(name: string, values: number[], decay: boolean): OptimizedParam {
  created += 1;
  return { name, variable: tf.variable(tf.tensor1d(values), true, `${name}#${created}`), decay };
}

function grads(entries: Record<string, number[]>): GradientMap {
  return new Map(Object.entries(entries).map(([k, v]) => [k, tf.tensor1d(v)]));
}

function values(p: OptimizedParam): number[] {
  return Array.from(p.variable.dataSync());
}

beforeAll(async () => {
  await initBackend('wasm');
});

describe('SgdOptimizer', () => {
  it('applies momentum 0.9 and L2 decay to decayed weights as PyTorch does', () => {
    const w = param('w', [1, 2], true);
    const sgd = new SgdOptimizer([w], { momentum: 0.9, weightDecay: 0.01 });

    // Step 1: d = g + 0.01 w = [0.51, -0.98]; buf = d; w -= 0.1 buf.
    sgd.step(grads({ w: [0.5, -1] }), 0.1);
    expect(values(w)[0]).toBeCloseTo(0.949, 6);
    expect(values(w)[1]).toBeCloseTo(2.098, 6);

    // Step 2: d = [0.50949, -0.97902]; buf = 0.9 [0.51, -0.98] + d = [0.96849, -1.86102].
    sgd.step(grads({ w: [0.5, -1] }), 0.1);
    expect(values(w)[0]).toBeCloseTo(0.852151, 6);
    expect(values(w)[1]).toBeCloseTo(2.284102, 6);
    expect(sgd.stepCount).toBe(2);
    sgd.dispose();
  });

  it('does not decay BN and bias parameters', () => {
    const gamma = param('gamma', [1], false);
    const sgd = new SgdOptimizer([gamma], { momentum: 0, weightDecay: 0.5 });

    // Without decay: w = 1 - 0.1 * 0.2 exactly; with decay it would be 0.93.
    sgd.step(grads({ gamma: [0.2] }), 0.1);
    expect(values(gamma)[0]).toBeCloseTo(0.98, 6);
    sgd.dispose();
  });

  it('leaves a parameter without a gradient untouched, momentum included', () => {
    const a = param('a', [1], true);
    const b = param('b', [1], true);
    const sgd = new SgdOptimizer([a, b], { momentum: 0.9, weightDecay: 0.1 });
    sgd.step(grads({ a: [1], b: [1] }), 0.1);
    const bAfterFirst = values(b)[0];

    sgd.step(grads({ a: [1] }), 0.1);

    // b's buffer would have moved it by 0.9 * 0.1 * 1.1 had it been applied.
    expect(values(b)[0]).toBe(bAfterFirst);
    sgd.dispose();
  });

  it('continues identically after exporting and importing its state', () => {
    const a = param('a', [1, -1], true);
    const b = param('b', [1, -1], true);
    const first = new SgdOptimizer([a], { momentum: 0.9, weightDecay: 0.01 });
    first.step(grads({ a: [0.3, 0.7] }), 0.05);
    b.variable.assign(a.variable);
    const second = new SgdOptimizer([{ ...b, name: 'a' }], { momentum: 0.9, weightDecay: 0.01 });

    second.importState(first.exportState());
    first.step(grads({ a: [-0.2, 0.4] }), 0.05);
    second.step(grads({ a: [-0.2, 0.4] }), 0.05);

    expect(values(b)).toEqual(values(a));
    expect(second.stepCount).toBe(2);
    first.dispose();
    second.dispose();
  });

  it('refuses a gradient for a parameter it does not own', () => {
    const sgd = new SgdOptimizer([param('a', [1], true)]);

    expect(() => sgd.step(grads({ nope: [1] }), 0.1)).toThrow(/'nope'/);
    sgd.dispose();
  });
});

describe('AdamOptimizer', () => {
  it('matches the bias-corrected Adam rule with betas (0.5, 0.999)', () => {
    const w = param('w', [1], false);
    const adam = new AdamOptimizer([w], { beta1: 0.5, beta2: 0.999 });

    // t=1: m = 0.25, v = 2.5e-4; corrected m/sqrt(v) = 0.5/0.5 = 1, so w = 1 - 0.1.
    adam.step(grads({ w: [0.5] }), 0.1);
    expect(values(w)[0]).toBeCloseTo(0.9, 6);

    // t=2, g=-1: m = -0.375, v = 1.24975e-3 -> step = 0.1/0.75 * 0.375 / 0.790688.
    adam.step(grads({ w: [-1] }), 0.1);
    expect(values(w)[0]).toBeCloseTo(0.963236065, 6);
    adam.dispose();
  });

  it('exports its moments and step counts for checkpoints', () => {
    const w = param('w', [1, 2, 3], false);
    const adam = new AdamOptimizer([w]);
    adam.step(grads({ w: [1, 1, 1] }), 0.01);

    const state = adam.exportState();

    expect(state.kind).toBe('adam');
    expect(state.paramSteps).toEqual({ w: 1 });
    expect(state.slots.map((s) => s.name).sort()).toEqual(['adam.m:w', 'adam.v:w']);
    // m after one step = (1 - beta1) g = 0.1.
    expect(state.slots.find((s) => s.name === 'adam.m:w')!.values[0]).toBeCloseTo(0.1, 6);
    expect(() => new SgdOptimizer([w]).importState(state)).toThrow(/'adam'/);
    adam.dispose();
  });
});

describe('schedules', () => {
  it('anneals the learning rate from lr0 to 0 on a cosine', () => {
    expect(cosineLearningRate(0.045, 0, 100)).toBeCloseTo(0.045, 12);
    expect(cosineLearningRate(0.045, 50, 100)).toBeCloseTo(0.0225, 12);
    // Quarter way: (1 + cos(pi/4)) / 2 = 0.853553.
    expect(cosineLearningRate(1, 25, 100)).toBeCloseTo(0.8535534, 6);
    expect(cosineLearningRate(0.045, 100, 100)).toBeCloseTo(0, 12);
  });

  it('cools the generator temperature from 5.0 by 0.95 per epoch', () => {
    expect(gumbelTemperature(0)).toBe(5);
    expect(gumbelTemperature(2)).toBeCloseTo(4.5125, 12);
    expect(() => gumbelTemperature(-1)).toThrow(/epoch/);
  });
});

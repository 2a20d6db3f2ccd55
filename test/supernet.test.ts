/**
 * The supernet's two forward passes: single path (one architecture, the kept
 * sub-blocks grouped by kernel) and weighted (every op mixed, for the
 * generator). They must agree with each other and with a plain
 * sub-block-by-sub-block reference, and BN must be shared or shadowed as the
 * options say.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';

import { initBackend } from '../main/engine/backend.js';
import { ParamStore } from '../main/engine/nn/params.js';
import { Supernet } from '../main/engine/nn/supernet.js';
import {
  UnifiedBlock,
  type BatchNormStat,
} from '../main/engine/nn/unifiedBlock.js';
import { batchNormInfer, conv1x1, depthwiseConv, relu6 } from '../main/engine/ops/index.js';
import { Rng } from '../main/engine/rng.js';
import { FairSampler } from '../main/engine/space/sampling.js';
import {
  SUB_BLOCK_OPS,
  kernelSize,
  type Architecture,
  type Preset,
  type SubBlockOp,
} from '../main/engine/space/types.js';

/** A 3-layer space small enough for fast tests, with a residual, a stride 2 and a widening. */
const TINY: Preset = {
  name: 'tiny',
  inputSize: 12,
  inputChannels: 1,
  stem: { channels: 6, stride: 1 },
  firstBlockChannels: 4,
  layers: [
    { cOut: 4, stride: 1 },
    { cOut: 6, stride: 2 },
    { cOut: 6, stride: 1 },
  ],
  headChannels: 16,
  constraint: { lowM: 0.1, highM: 0.2 },
};

const FS = { forcedSampling: true, minExpansion: 2 };

function images(n: number, seed: number): tf.Tensor4D {
  const rng = new Rng(seed);
  const values = Float32Array.from({ length: n * 12 * 12 }, () => rng.normal());
  return tf.tensor4d(values, [n, 12, 12, 1]);
}

function oneHot(arch: Architecture): tf.Tensor3D {
  return tf.tensor3d(
    arch.layers.map((ops) => ops.map((op) => SUB_BLOCK_OPS.map((o) => (o === op ? 1 : 0)))),
  );
}

function skipCounts(arch: Architecture): number[] {
  return arch.layers.map((ops) => ops.filter((op) => op === 'skip').length);
}

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}

/** Runs a few training-mode passes so running statistics are not the 0/1 defaults. */
function warmRunningStatistics(net: Supernet, archs: Architecture[], x: tf.Tensor4D): void {
  for (const arch of archs) {
    const stats: BatchNormStat[] = [];
    tf.tidy(() => {
      net.forwardSinglePath(x, arch, true, stats);
    });
    net.updateRunningStatistics(stats, 0.5);
  }
}

const ARCH_A: Architecture = {
  layers: [
    ['7x7', '3x3', '5x5', '3x3', 'skip', 'skip'],
    ['5x5', '5x5', 'skip', 'skip', 'skip', 'skip'],
    ['3x3', '7x7', '7x7', '5x5', '3x3', '7x7'],
  ],
};

beforeAll(async () => {
  await initBackend('wasm');
});

describe('Supernet.forwardSinglePath', () => {
  it('maps [N, 12, 12, 1] images to [N, classes] logits in both BN modes', () => {
    const net = new Supernet(TINY, 7, { ...FS, shadowBatchNorm: true, seed: 1 });
    const x = images(5, 2);

    const train = net.forwardSinglePath(x, ARCH_A, true);
    const infer = net.forwardSinglePath(x, ARCH_A, false);

    expect(train.shape).toEqual([5, 7]);
    expect(infer.shape).toEqual([5, 7]);
    tf.dispose([x, train, infer]);
    net.dispose();
  });

  it('refuses an architecture that breaks forced sampling, naming the layer', () => {
    const net = new Supernet(TINY, 3, { ...FS, shadowBatchNorm: false });
    const broken: Architecture = {
      layers: [...ARCH_A.layers.slice(0, 2), ['3x3', '3x3', 'skip', '5x5', 'skip', 'skip']],
    };
    const x = images(2, 1);

    expect(() => net.forwardSinglePath(x, broken, false)).toThrow(/layer 3 .*forcedSampling/);
    x.dispose();
    net.dispose();
  });
});

/**
 * The unified block computed the slow, obvious way: each kept sub-block on its
 * own (expand, BN, ReLU6, depthwise, BN, ReLU6, its rows of the projection),
 * the projections summed, then the projection BN and the residual.
 */
function referenceBlock(
  store: ParamStore,
  name: string,
  x: tf.Tensor4D,
  ops: SubBlockOp[],
  stride: 1 | 2,
  residual: boolean,
): tf.Tensor4D {
  const bn = (t: tf.Tensor4D, prefix: string) =>
    batchNormInfer(
      t,
      store.get(`${prefix}/gamma`) as tf.Tensor1D,
      store.get(`${prefix}/beta`) as tf.Tensor1D,
      store.get(`${prefix}/mean`) as tf.Tensor1D,
      store.get(`${prefix}/variance`) as tf.Tensor1D,
    );
  let sum: tf.Tensor4D | null = null;

  ops.forEach((op, i) => {
    if (op === 'skip') return;
    const sub = `${name}/sub${i}`;
    const k = kernelSize(op);
    const h = relu6(bn(conv1x1(x, store.get(`${sub}/expand`) as tf.Tensor2D), `${sub}/expand_bn`));
    const d = depthwiseConv(h, store.get(`${sub}/k${k}/dw`) as tf.Tensor4D, stride);
    const o = relu6(bn(d, `${sub}/k${k}/bn`));
    const p = conv1x1(o, store.get(`${sub}/project`) as tf.Tensor2D);
    sum = sum === null ? p : (tf.add(sum, p) as tf.Tensor4D);
  });

  const skips = ops.filter((op) => op === 'skip').length;
  const y = bn(sum as unknown as tf.Tensor4D, `${name}/project_bn${skips}`);
  return residual ? (tf.add(y, x) as tf.Tensor4D) : y;
}

describe('UnifiedBlock', () => {
  const shape = { cIn: 4, cOut: 4, stride: 1 as const, inSize: 6, outSize: 6, residual: true };
  const strided = { cIn: 4, cOut: 5, stride: 2 as const, inSize: 6, outSize: 3, residual: false };

  for (const s of [shape, strided]) {
    it(`grouping kept sub-blocks by kernel equals running each alone (stride ${s.stride})`, () => {
      const store = new ParamStore(new Rng(5));
      const block = new UnifiedBlock(store, 'b', s, { shadowBatchNorm: true, minExpansion: 2 });
      const x = tf.tidy(() =>
        tf.mul(
          images(3, 8).slice([0, 0, 0, 0], [3, 6, 6, 1]),
          tf.randomNormal([1, 1, 1, 4], 0, 1, 'float32', 4),
        ),
      ) as tf.Tensor4D;
      // Running statistics away from 0/1 so a wrong BN pairing shows up.
      for (const p of store.entries()) {
        if (p.kind === 'bnRunningMean' || p.kind === 'bnScale') {
          p.variable.assign(tf.randomUniform(p.variable.shape, 0.5, 1.5, 'float32', 3));
        }
      }
      // Kernels interleaved and skips in the middle (forced sampling off).
      const ops: SubBlockOp[] = ['7x7', '3x3', 'skip', '7x7', '5x5', '3x3'];

      const ours = block.forwardSinglePath(x, ops, { training: false });
      const reference = referenceBlock(store, 'b', x, ops, s.stride, s.residual);

      expect(ours.shape).toEqual([3, s.outSize, s.outSize, s.cOut]);
      expect(maxAbsDiff(ours, reference)).toBeLessThan(1e-4);
      tf.dispose([x, ours, reference]);
      store.dispose();
    });
  }
});

describe('Supernet.forwardWeighted', () => {
  for (const forcedSampling of [true, false]) {
    it(`with one-hot weights equals the single path in eval mode (FS ${forcedSampling})`, () => {
      const options = { forcedSampling, minExpansion: 2, shadowBatchNorm: true, seed: 3 };
      const net = new Supernet(TINY, 5, options);
      const x = images(6, 4);
      const sampler = new FairSampler(TINY, options, new Rng(9));
      warmRunningStatistics(net, sampler.nextBatch(), x);
      const arch = forcedSampling
        ? ARCH_A
        : { layers: [['3x3', '5x5', 'skip', '7x7', 'skip', '3x3'], ...ARCH_A.layers.slice(1)] };

      const single = net.forwardSinglePath(x, arch as Architecture, false);
      const w = oneHot(arch as Architecture);
      const weighted = net.forwardWeighted(x, w, skipCounts(arch as Architecture));

      // Both read the same weights and running statistics: only float rounding differs.
      expect(maxAbsDiff(single, weighted)).toBeLessThan(1e-4);
      expect(tf.max(tf.abs(single)).dataSync()[0]).toBeGreaterThan(1e-3);
      tf.dispose([x, single, w, weighted]);
      net.dispose();
    });
  }

  it('gives each example its own weighting when opWeights is [N, L, 6, 4]', () => {
    const net = new Supernet(TINY, 4, { ...FS, shadowBatchNorm: false, seed: 2 });
    const x = images(2, 5);
    const other: Architecture = {
      layers: ARCH_A.layers.map(() => ['5x5', '3x3', '7x7', 'skip', 'skip', 'skip']),
    };
    const wA = oneHot(ARCH_A);
    const wB = oneHot(other);
    const sbn = [0, 0, 0];

    const both = net.forwardWeighted(x, tf.stack([wA, wB]), sbn);
    const onlyA = net.forwardWeighted(x, wA, sbn);
    const onlyB = net.forwardWeighted(x, wB, sbn);

    // Row 0 must follow A's weighting and row 1 B's, as if run separately.
    expect(maxAbsDiff(both.slice([0, 0], [1, 4]), onlyA.slice([0, 0], [1, 4]))).toBeLessThan(1e-5);
    expect(maxAbsDiff(both.slice([1, 0], [1, 4]), onlyB.slice([1, 0], [1, 4]))).toBeLessThan(1e-5);
    expect(maxAbsDiff(onlyA, onlyB)).toBeGreaterThan(1e-6);
    tf.dispose([x, wA, wB, both, onlyA, onlyB]);
    net.dispose();
  });

  it('passes gradients to the kernel weights and none to the skip weights', () => {
    const net = new Supernet(TINY, 4, { ...FS, shadowBatchNorm: true, seed: 6 });
    const x = images(4, 7);
    const w = tf.tidy(() => tf.softmax(tf.randomNormal([3, 6, 4], 0, 1, 'float32', 11)));

    const loss = (ow: tf.Tensor) => tf.sum(tf.square(net.forwardWeighted(x, ow, [2, 2, 2])));
    const grad = tf.grad(loss)(w);
    const values = grad.arraySync() as number[][][];
    const kernelGrads = values.flat().flatMap((row) => row.slice(0, 3));
    const skipGrads = values.flat().map((row) => row[3]);

    // Every kernel branch feeds the output; skip contributes zero by definition.
    expect(kernelGrads.every((g) => Number.isFinite(g))).toBe(true);
    expect(kernelGrads.filter((g) => Math.abs(g) > 0).length).toBe(kernelGrads.length);
    expect(skipGrads.every((g) => g === 0)).toBe(true);
    tf.dispose([x, w, grad]);
    net.dispose();
  });
});

describe('shadow batch normalisation', () => {
  const small: Architecture = {
    layers: TINY.layers.map(() => ['3x3', '3x3', 'skip', 'skip', 'skip', 'skip']),
  };
  const full: Architecture = {
    layers: TINY.layers.map(() => Array(6).fill('5x5') as SubBlockOp[]),
  };

  function projectionBnNames(net: Supernet, arch: Architecture): string[] {
    return net.batchNormsOf(arch).map((bn) => bn.name).filter((n) => n.includes('project_bn'))
      .filter((n) => n.startsWith('layer'));
  }

  it('uses one projection BN per expansion rate when on', () => {
    const net = new Supernet(TINY, 3, { ...FS, shadowBatchNorm: true });

    // Expansion 2 skips 4 sub-blocks, expansion 6 none: BN index = skip count.
    expect(projectionBnNames(net, small)).toEqual(
      ['layer0/project_bn4', 'layer1/project_bn4', 'layer2/project_bn4'],
    );
    expect(projectionBnNames(net, full)).toEqual(
      ['layer0/project_bn0', 'layer1/project_bn0', 'layer2/project_bn0'],
    );
    net.dispose();
  });

  it('shares one projection BN across expansion rates when off', () => {
    const net = new Supernet(TINY, 3, { ...FS, shadowBatchNorm: false });

    expect(projectionBnNames(net, small)).toEqual(projectionBnNames(net, full));
    expect(projectionBnNames(net, small)[0]).toBe('layer0/project_bn');
    net.dispose();
  });

  it('updates only the running statistics of the BN the expansion rate selects', () => {
    const net = new Supernet(TINY, 3, { ...FS, shadowBatchNorm: true });
    const x = images(4, 3);
    const stats: BatchNormStat[] = [];

    tf.tidy(() => {
      net.forwardSinglePath(x, small, true, stats);
    });
    net.updateRunningStatistics(stats);

    // A fresh BN has running mean 0; only the used (skip count 4) BN moved.
    const mean = (name: string) => tf.sum(tf.abs(net.store.get(name))).dataSync()[0];
    expect(mean('layer1/project_bn4/mean')).toBeGreaterThan(0);
    expect(mean('layer1/project_bn0/mean')).toBe(0);
    expect(mean('layer1/sub2/expand_bn/mean')).toBe(0);
    x.dispose();
    net.dispose();
  });
});

describe('Supernet parameters', () => {
  it('counts trainable values only, and the same seed gives the same weights', () => {
    const a = new Supernet(TINY, 3, { ...FS, shadowBatchNorm: true, seed: 4 });
    const b = new Supernet(TINY, 3, { ...FS, shadowBatchNorm: true, seed: 4 });
    const running = a.store.entries()
      .filter((p) => !p.trainable)
      .reduce((s, p) => s + p.variable.size, 0);
    const all = a.store.entries().reduce((s, p) => s + p.variable.size, 0);

    expect(a.paramCount()).toBe(all - running);
    expect(maxAbsDiff(a.store.get('layer2/sub5/k7/dw'), b.store.get('layer2/sub5/k7/dw'))).toBe(0);
    a.dispose();
    b.dispose();
  });
});

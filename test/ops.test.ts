/**
 * The engine's ops on wasm must agree with tfjs's reference ops on the cpu
 * backend, in value and in gradient, because wasm training relies on the ops'
 * hand-built gradients (wasm lacks the conv backprop kernels).
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';

import { initBackend } from '../main/engine/backend.js';
import {
  batchNormInfer,
  batchNormTrain,
  conv1x1,
  conv2d,
  dense,
  depthwiseConv,
  FILTER_GRADIENT_ONLY,
  globalAvgPool,
  INPUT_GRADIENT_ONLY,
  relu6,
} from '../main/engine/ops/index.js';
import { Rng } from '../main/engine/rng.js';

/** Relative tolerance: |ours - reference| <= TOL * max(1, max |reference|). */
const TOL = 2e-4;

type Shape = number[];
interface Input {
  shape: Shape;
  data: Float32Array;
}

/** Seeded normal data, so every backend sees the same numbers. */
function randomInput(rng: Rng, shape: Shape, scale = 1): Input {
  const size = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(size);
  for (let i = 0; i < size; i++) data[i] = rng.normal() * scale;
  return { shape, data };
}

/**
 * On `backend`, evaluates f(inputs) and its gradients with respect to every
 * input, for the loss sum(f(inputs) * upstream). A random upstream gradient
 * makes each output element count differently, which an all-ones one would not.
 */
async function valueAndGrads(
  backend: string,
  inputs: Input[],
  upstream: Input,
  f: (...ts: tf.Tensor[]) => tf.Tensor,
): Promise<Float32Array[]> {
  await tf.setBackend(backend);

  const results = tf.tidy(() => {
    const ts = inputs.map((i) => tf.tensor(i.data, i.shape));
    const g = tf.tensor(upstream.data, upstream.shape);
    const value = f(...ts);
    const grads = tf.grads((...args: tf.Tensor[]) => tf.sum(tf.mul(f(...args), g)))(ts);
    return [value, ...grads];
  });

  const arrays = results.map((t) => t.dataSync() as Float32Array);
  tf.dispose(results);
  await tf.setBackend('wasm');
  return arrays;
}

/** Largest |a - b| relative to the reference's scale. */
function relativeError(ours: Float32Array, reference: Float32Array): number {
  expect(ours.length).toBe(reference.length);
  let maxDiff = 0;
  let maxRef = 1;
  for (let i = 0; i < ours.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(ours[i] - reference[i]));
    maxRef = Math.max(maxRef, Math.abs(reference[i]));
  }
  return maxDiff / maxRef;
}

/**
 * Runs `ours` on wasm and `reference` on cpu over the same inputs and checks
 * the value and each input's gradient. The output shape comes from the
 * reference, so a wrong output shape fails the length check.
 */
async function expectMatchesReference(
  rng: Rng,
  inputs: Input[],
  ours: (...ts: tf.Tensor[]) => tf.Tensor,
  reference: (...ts: tf.Tensor[]) => tf.Tensor,
): Promise<void> {
  await tf.setBackend('cpu');
  const outShape = tf.tidy(
    () => reference(...inputs.map((i) => tf.tensor(i.data, i.shape))).shape,
  );
  const upstream = randomInput(rng, outShape);

  const expected = await valueAndGrads('cpu', inputs, upstream, reference);
  const actual = await valueAndGrads('wasm', inputs, upstream, ours);

  const labels = ['value', ...inputs.map((_, i) => `gradient of input ${i}`)];
  for (let i = 0; i < expected.length; i++) {
    expect(relativeError(actual[i], expected[i]), labels[i]).toBeLessThan(TOL);
  }
}

function padded(x: tf.Tensor4D, k: number): tf.Tensor4D {
  const p = Math.floor(k / 2);
  return tf.pad(x, [[0, 0], [p, p], [p, p], [0, 0]]);
}

beforeAll(async () => {
  const info = await initBackend();
  expect(info.name).toBe('wasm');
});

// Odd and even heights, and width unequal to height so a swapped H/W shows up.
const SPATIAL: Array<[number, number]> = [
  [7, 14],
  [14, 7],
];

describe('depthwiseConv', () => {
  for (const k of [3, 5, 7]) {
    for (const stride of [1, 2] as const) {
      for (const [h, w] of SPATIAL) {
        it(`matches cpu depthwiseConv2d of padded input, k${k} s${stride} ${h}x${w}`, async () => {
          const rng = new Rng(100 * k + 10 * stride + h);
          const x = randomInput(rng, [3, h, w, 4]);
          const filter = randomInput(rng, [k, k, 4, 1], 0.3);

          await expectMatchesReference(
            rng,
            [x, filter],
            (a, b) => depthwiseConv(a as tf.Tensor4D, b as tf.Tensor4D, stride),
            (a, b) =>
              tf.depthwiseConv2d(padded(a as tf.Tensor4D, k), b as tf.Tensor4D, stride, 'valid'),
          );
        });
      }
    }
  }

  for (const k of [9, 11]) {
    it(`matches cpu beyond the paper's kernels too, k${k} s2 7x14`, async () => {
      const rng = new Rng(k);
      await expectMatchesReference(
        rng,
        [randomInput(rng, [2, 7, 14, 3]), randomInput(rng, [k, k, 3, 1], 0.3)],
        (a, b) => depthwiseConv(a as tf.Tensor4D, b as tf.Tensor4D, 2),
        (a, b) => tf.depthwiseConv2d(padded(a as tf.Tensor4D, k), b as tf.Tensor4D, 2, 'valid'),
      );
    });
  }

  it('gives ceil(H / stride) rows for odd and even H, like PyTorch padding k//2', () => {
    const shape = tf.tidy(
      () => depthwiseConv(tf.zeros([1, 7, 14, 2]), tf.zeros([5, 5, 2, 1]), 2).shape,
    );
    expect(shape).toEqual([1, 4, 7, 2]);
  });

  it('refuses a kernel larger than the engine kernels take on wasm, naming the limit', () => {
    const x = tf.zeros([1, 20, 20, 2]) as tf.Tensor4D;
    const w = tf.zeros([17, 17, 2, 1]) as tf.Tensor4D;
    expect(() => depthwiseConv(x, w, 1)).toThrow(/17x17 kernel.*up to 15x15/);
    tf.dispose([x, w]);
  });

  it('rejects an even kernel, naming the filter shape', () => {
    expect(() =>
      tf.tidy(() => depthwiseConv(tf.zeros([1, 8, 8, 2]), tf.zeros([4, 4, 2, 1]), 1)),
    ).toThrow(/\[4,4,2,1\].*odd square kernel/);
  });

  it('rejects a filter whose channels differ from the input', () => {
    expect(() =>
      tf.tidy(() => depthwiseConv(tf.zeros([1, 8, 8, 3]), tf.zeros([3, 3, 2, 1]), 1)),
    ).toThrow(/expects 2 input channels.*has 3/);
  });
});

describe('conv2d', () => {
  for (const k of [3, 5, 7]) {
    for (const stride of [1, 2] as const) {
      for (const [h, w] of SPATIAL) {
        it(`matches cpu conv2d of padded input, k${k} s${stride} ${h}x${w}`, async () => {
          const rng = new Rng(1000 + 100 * k + 10 * stride + h);
          const x = randomInput(rng, [2, h, w, 3]);
          const filter = randomInput(rng, [k, k, 3, 5], 0.3);

          await expectMatchesReference(
            rng,
            [x, filter],
            (a, b) => conv2d(a as tf.Tensor4D, b as tf.Tensor4D, stride),
            (a, b) => tf.conv2d(padded(a as tf.Tensor4D, k), b as tf.Tensor4D, stride, 'valid'),
          );
        });
      }
    }
  }
});

describe('convs that compute one gradient only', () => {
  // Frozen supernet weights (the generator's weighted forward) need only the
  // input gradient; the stem, whose input is data, only the filter's.
  const cases = [
    {
      name: 'depthwiseConv k7 s2',
      x: [3, 9, 8, 4],
      w: [7, 7, 4, 1],
      ours: (x: tf.Tensor, w: tf.Tensor, grads: typeof INPUT_GRADIENT_ONLY) =>
        depthwiseConv(x as tf.Tensor4D, w as tf.Tensor4D, 2, grads),
      reference: (x: tf.Tensor, w: tf.Tensor) =>
        tf.depthwiseConv2d(padded(x as tf.Tensor4D, 7), w as tf.Tensor4D, 2, 'valid'),
    },
    {
      name: 'conv2d k3 s2',
      x: [3, 9, 8, 2],
      w: [3, 3, 2, 5],
      ours: (x: tf.Tensor, w: tf.Tensor, grads: typeof INPUT_GRADIENT_ONLY) =>
        conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 2, grads),
      reference: (x: tf.Tensor, w: tf.Tensor) =>
        tf.conv2d(padded(x as tf.Tensor4D, 3), w as tf.Tensor4D, 2, 'valid'),
    },
    {
      name: 'conv1x1',
      x: [3, 5, 4, 6],
      w: [6, 7],
      ours: (x: tf.Tensor, w: tf.Tensor, grads: typeof INPUT_GRADIENT_ONLY) =>
        conv1x1(x as tf.Tensor4D, w as tf.Tensor2D, grads),
      reference: (x: tf.Tensor, w: tf.Tensor) =>
        tf.conv2d(x as tf.Tensor4D, tf.reshape(w, [1, 1, 6, 7]) as tf.Tensor4D, 1, 'valid'),
    },
  ];

  for (const c of cases) {
    it(`${c.name}: INPUT_GRADIENT_ONLY gives the reference input gradient`, async () => {
      const rng = new Rng(31);
      const w = randomInput(rng, c.w, 0.3);
      const weight = () => tf.tensor(w.data, w.shape);
      await expectMatchesReference(
        rng,
        [randomInput(rng, c.x)],
        (x) => c.ours(x, weight(), INPUT_GRADIENT_ONLY),
        (x) => c.reference(x, weight()),
      );
    });

    it(`${c.name}: FILTER_GRADIENT_ONLY gives the reference filter gradient`, async () => {
      const rng = new Rng(32);
      const x = randomInput(rng, c.x);
      const input = () => tf.tensor(x.data, x.shape);
      await expectMatchesReference(
        rng,
        [randomInput(rng, c.w, 0.3)],
        (w) => c.ours(input(), w, FILTER_GRADIENT_ONLY),
        (w) => c.reference(input(), w),
      );
    });

    it(`${c.name}: a frozen filter is not on the gradient tape at all`, () => {
      const rng = new Rng(33);
      const x = randomInput(rng, c.x);
      const w = randomInput(rng, c.w, 0.3);
      tf.tidy(() => {
        const xs = tf.tensor(x.data, x.shape);
        const ws = tf.tensor(w.data, w.shape);
        // tfjs refuses a gradient for a tensor that no taped op consumed.
        const filterGrad = () => tf.grad((v) => tf.sum(c.ours(xs, v, INPUT_GRADIENT_ONLY)))(ws);
        expect(filterGrad).toThrow(/Cannot compute gradient/);
      });
    });
  }
});

describe('conv1x1', () => {
  it('matches a cpu 1x1 conv2d in value and gradients', async () => {
    const rng = new Rng(7);
    const x = randomInput(rng, [3, 7, 6, 5]);
    const w = randomInput(rng, [5, 8], 0.5);

    await expectMatchesReference(
      rng,
      [x, w],
      (a, b) => conv1x1(a as tf.Tensor4D, b as tf.Tensor2D),
      (a, b) =>
        tf.conv2d(a as tf.Tensor4D, tf.reshape(b, [1, 1, 5, 8]) as tf.Tensor4D, 1, 'valid'),
    );
  });

  it('rejects a weight whose rows differ from the input channels', () => {
    expect(() => tf.tidy(() => conv1x1(tf.zeros([1, 2, 2, 5]), tf.zeros([4, 8])))).toThrow(
      /weight shape \[4,8\].*expected \[5, Cout\]/,
    );
  });
});

describe('batchNormTrain', () => {
  const reference = (x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor): tf.Tensor => {
    const axes = x.rank === 4 ? [0, 1, 2] : [0];
    const { mean, variance } = tf.moments(x, axes);
    return tf.batchNorm(x, mean, variance, beta as tf.Tensor1D, gamma as tf.Tensor1D, 1e-5);
  };

  for (const shape of [[4, 7, 6, 5], [9, 5]]) {
    it(`matches tf.batchNorm with batch moments for input [${shape}]`, async () => {
      const rng = new Rng(shape.length);
      // An offset and a spread unlike N(0,1) make a wrong mean or variance visible.
      const x = randomInput(rng, shape, 3);
      x.data.forEach((v, i) => (x.data[i] = v + 2));
      const gamma = randomInput(rng, [5]);
      const beta = randomInput(rng, [5]);

      await expectMatchesReference(
        rng,
        [x, gamma, beta],
        (a, g, b) =>
          batchNormTrain(a as tf.Tensor4D, g as tf.Tensor1D, b as tf.Tensor1D).y,
        reference,
      );
    });
  }

  it('returns the per-channel batch mean and biased variance', () => {
    // Channel 0 holds 1, 3 (mean 2, variance 1); channel 1 holds 0, 4 (mean 2, variance 4).
    const [mean, variance] = tf.tidy(() => {
      const x = tf.tensor2d([[1, 0], [3, 4]]);
      const out = batchNormTrain(x, tf.ones([2]), tf.zeros([2]));
      return [out.mean, out.variance];
    });

    expect(Array.from(mean.dataSync())).toEqual([2, 2]);
    expect(Array.from(variance.dataSync())).toEqual([1, 4]);
    tf.dispose([mean, variance]);
  });
});

describe('batchNormInfer', () => {
  it('matches tf.batchNorm with the running statistics', async () => {
    const rng = new Rng(11);
    const x = randomInput(rng, [3, 5, 4, 6]);
    const gamma = randomInput(rng, [6]);
    const beta = randomInput(rng, [6]);
    const mean = randomInput(rng, [6]);
    const variance = randomInput(rng, [6]);
    variance.data.forEach((v, i) => (variance.data[i] = v * v + 0.1));

    await expectMatchesReference(
      rng,
      [x, gamma, beta, mean, variance],
      (a, g, b, m, v) =>
        batchNormInfer(a as tf.Tensor4D, g as tf.Tensor1D, b as tf.Tensor1D,
          m as tf.Tensor1D, v as tf.Tensor1D),
      (a, g, b, m, v) =>
        tf.batchNorm(a, m as tf.Tensor1D, v as tf.Tensor1D, b as tf.Tensor1D,
          g as tf.Tensor1D, 1e-5),
    );
  });
});

describe('dense, relu6 and globalAvgPool', () => {
  it('dense matches matMul plus bias in value and gradients', async () => {
    const rng = new Rng(21);
    await expectMatchesReference(
      rng,
      [randomInput(rng, [6, 10]), randomInput(rng, [10, 4]), randomInput(rng, [4])],
      (x, w, b) => dense(x as tf.Tensor2D, w as tf.Tensor2D, b as tf.Tensor1D),
      (x, w, b) => tf.add(tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D), b),
    );
  });

  it('relu6 clips to [0, 6] and passes gradient only inside that range', async () => {
    const rng = new Rng(22);
    await expectMatchesReference(
      rng,
      [randomInput(rng, [50], 5)],
      (x) => relu6(x),
      (x) => tf.minimum(tf.maximum(x, 0), 6),
    );
  });

  it('globalAvgPool averages over H and W', async () => {
    const rng = new Rng(23);
    await expectMatchesReference(
      rng,
      [randomInput(rng, [3, 7, 5, 4])],
      (x) => globalAvgPool(x as tf.Tensor4D),
      (x) => tf.mean(x, [1, 2]),
    );
  });
});

describe('training with the ops', () => {
  it('20 variableGrads steps lower the loss and leak no tensors', () => {
    const rng = new Rng(5);
    // variableGrads keys its result by variable name, so each one is named.
    const variable = (name: string, t: tf.Tensor): tf.Variable =>
      tf.variable(t, true, `opsTest/${name}`);
    const init = (name: string, shape: Shape, scale: number): tf.Variable =>
      variable(name, tf.tensor(randomInput(rng, shape, scale).data, shape));
    const params = {
      stem: init('stem', [3, 3, 3, 8], 0.3),
      expand: init('expand', [8, 16], 0.3),
      dw: init('dw', [5, 5, 16, 1], 0.2),
      gamma: variable('gamma', tf.ones([16])),
      beta: variable('beta', tf.zeros([16])),
      fc: init('fc', [16, 4], 0.3),
      bias: variable('bias', tf.zeros([4])),
    };
    const byName = new Map(Object.values(params).map((v) => [v.name, v]));
    const x = tf.tensor(randomInput(rng, [8, 9, 9, 3]).data, [8, 9, 9, 3]) as tf.Tensor4D;
    const labels = tf.tidy(() =>
      tf.cast(tf.oneHot(tf.tensor1d([0, 1, 2, 3, 0, 1, 2, 3], 'int32'), 4), 'float32'),
    );

    const loss = (): tf.Scalar => {
      let h = relu6(conv2d(x, params.stem as tf.Tensor4D, 1));
      h = conv1x1(h, params.expand as tf.Tensor2D);
      h = depthwiseConv(h, params.dw as tf.Tensor4D, 2);
      h = relu6(batchNormTrain(h, params.gamma as tf.Tensor1D, params.beta as tf.Tensor1D).y);
      const logits = dense(globalAvgPool(h), params.fc as tf.Tensor2D, params.bias as tf.Tensor1D);
      return tf.losses.softmaxCrossEntropy(labels, logits) as tf.Scalar;
    };

    const losses: number[] = [];
    let before = tf.memory().numTensors;

    for (let step = 0; step < 20; step++) {
      // BN's column sums keep one ones column per row count for good (reduce.ts):
      // count from after the first step, when it exists.
      if (step === 1) before = tf.memory().numTensors;
      const { value, grads } = tf.variableGrads(loss);
      losses.push(value.dataSync()[0]);

      tf.tidy(() => {
        for (const [name, g] of Object.entries(grads)) {
          const v = byName.get(name) as tf.Variable;
          v.assign(tf.sub(v, tf.mul(g, 0.5)));
        }
      });
      tf.dispose(value);
      tf.dispose(grads);
    }

    // Plain SGD on one fixed batch must make progress if the gradients are right.
    expect(losses[19]).toBeLessThan(losses[0] * 0.8);
    expect(tf.memory().numTensors).toBe(before);

    tf.dispose([x, labels, ...Object.values(params)]);
  });
});

import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../main/engine/backend.js';
import { Supernet } from '../main/engine/nn/supernet.js';
import { getPreset } from '../main/engine/space/presets.js';
import { FairSampler } from '../main/engine/space/sampling.js';
import { Rng } from '../main/engine/rng.js';

await initBackend('wasm');
const preset = getPreset('fmnist');
const net = new Supernet(preset, 10, { shadowBatchNorm: true, forcedSampling: true, minExpansion: 2, seed: 1 });
const sampler = new FairSampler(preset, { forcedSampling: true, minExpansion: 2 }, new Rng(3));
const archs = sampler.nextBatch();
const bs = 64;
const xb = tf.randomNormal([bs, 28, 28, 1]) as tf.Tensor4D;
const yb = tf.oneHot(tf.randomUniform([bs], 0, 10, 'int32') as tf.Tensor1D, 10);
const trainables = net.store.trainables().map(p => p.variable);
const a = archs.find(a => a.layers[0].filter(o => o !== 'skip').length === 6)!;
for (let rep = 0; rep < 2; rep++) {
  let t0 = performance.now();
  tf.tidy(() => net.forwardSinglePath(xb, a, true).dataSync());
  const tf1 = performance.now() - t0;
  t0 = performance.now();
  const prof = await tf.profile(() => {
    const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(yb, net.forwardSinglePath(xb, a, true)) as tf.Scalar, trainables);
    value.dataSync(); value.dispose(); tf.dispose(grads);
  });
  const tb = performance.now() - t0;
  console.log(`fwd ${tf1.toFixed(0)} ms, fwd+bwd ${tb.toFixed(0)} ms kernels ${prof.kernels.length}`);
  if (rep === 1) {
    const agg = new Map<string, [number, number]>();
    for (const k of prof.kernels) { const e = agg.get(k.name) ?? [0, 0]; e[0] += Number(k.kernelTimeMs) || 0; e[1]++; agg.set(k.name, e); }
    console.log([...agg].sort((p, q) => q[1][0] - p[1][0]).slice(0, 15).map(([n, [t, c]]) => `${n} ${t.toFixed(0)}ms x${c}`).join('\n'));
  }
}

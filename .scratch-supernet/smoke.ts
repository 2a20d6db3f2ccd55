import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../main/engine/backend.js';
import { Supernet } from '../main/engine/nn/supernet.js';
import { getPreset } from '../main/engine/space/presets.js';
import { FairSampler } from '../main/engine/space/sampling.js';
import { Rng } from '../main/engine/rng.js';
import { SUB_BLOCK_OPS } from '../main/engine/space/types.js';

const info = await initBackend((process.argv[2] as 'wasm') ?? 'wasm');
console.log(info.name);
const preset = getPreset('fmnist');
const net = new Supernet(preset, 10, { shadowBatchNorm: true, forcedSampling: true, minExpansion: 2, seed: 1 });
console.log('params', net.paramCount(), 'vars', net.store.entries().length);
const sampler = new FairSampler(preset, { forcedSampling: true, minExpansion: 2 }, new Rng(3));
const archs = sampler.nextBatch();
const x = tf.randomNormal([8, 28, 28, 1]) as tf.Tensor4D;
// train-mode pass to move running stats
for (const a of archs) { const st: any[] = []; tf.tidy(() => net.forwardSinglePath(x, a, true, st)); net.updateRunningStatistics(st); }
const arch = archs[2];
const single = net.forwardSinglePath(x, arch, false);
const w = tf.tensor(arch.layers.map(ops => ops.map(op => SUB_BLOCK_OPS.map(o => (o === op ? 1 : 0)))));
const sbn = arch.layers.map(ops => ops.filter(o => o === 'skip').length);
const weighted = net.forwardWeighted(x, w, sbn);
console.log('maxdiff', tf.max(tf.abs(tf.sub(single, weighted))).dataSync()[0], tf.max(tf.abs(single)).dataSync()[0]);
const wb = tf.stack([w, w, w, w, w, w, w, w]);
const weighted2 = net.forwardWeighted(x, wb, sbn);
console.log('maxdiff per-example', tf.max(tf.abs(tf.sub(single, weighted2))).dataSync()[0]);
const g = tf.grad((ww: tf.Tensor) => tf.sum(net.forwardWeighted(x, ww, sbn)))(w);
console.log('grad abs sum', tf.sum(tf.abs(g)).dataSync()[0]);
// timing of a fair step
const trainables = net.store.trainables().map(p => p.variable);
for (const bs of [64, 128]) {
  const xb = tf.randomNormal([bs, 28, 28, 1]) as tf.Tensor4D;
  const yb = tf.oneHot(tf.randomUniform([bs], 0, 10, 'int32') as tf.Tensor1D, 10);
  for (let rep = 0; rep < 2; rep++) {
    const t0 = performance.now();
    for (const a of sampler.nextBatch()) {
      const st: any[] = [];
      const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(yb, net.forwardSinglePath(xb, a, true, st)) as tf.Scalar, trainables);
      value.dataSync(); value.dispose(); tf.dispose(grads); net.updateRunningStatistics(st);
    }
    const dt = (performance.now() - t0) / 1000;
    console.log(`batch ${bs}: step ${dt.toFixed(2)} s, ${(bs / dt).toFixed(1)} batch-img/s, ${(5 * bs / dt).toFixed(1)} img-passes/s, tensors ${tf.memory().numTensors}, MB ${(tf.memory().numBytes/1e6).toFixed(1)}`);
  }
}

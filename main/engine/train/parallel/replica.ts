/**
 * Entry of a supernet replica thread (worker_threads): a supernet of its own
 * on its own tfjs (wasm) instance. Each step message brings the current
 * weights and a share of the step's passes; the reply carries every pass's
 * gradients and BN batch statistics, which the trainer folds in in pass
 * order, so a run gives the same numbers with or without replicas.
 */
import { parentPort } from 'node:worker_threads';

import { initBackend } from '../../backend.js';
import { toBatch } from '../../data/batches.js';
import type { ImageSet } from '../../data/imageSet.js';
import { Supernet } from '../../nn/supernet.js';
import { computePass } from './pass.js';
import type { ParentMessage, ReplicaMessage, StepMessage, UnitResult } from './protocol.js';
import { assignWeights, packGradients, packStats } from './transfer.js';

let supernet: Supernet | null = null;
let train: ImageSet | null = null;

function send(message: ReplicaMessage): void {
  parentPort?.postMessage(message);
}

function runStep(message: StepMessage): UnitResult[] {
  if (!supernet || !train) throw new Error('replica got a step before its init message');
  assignWeights(supernet.store, message.weights);
  const batchSize = message.indices.length;

  return message.units.map((unit) => {
    const { x, y } = toBatch(train as ImageSet, message.indices.subarray(unit.start, unit.end));
    try {
      const share = (unit.end - unit.start) / batchSize;
      const out = computePass(supernet as Supernet, unit.arch, x, y, share, message.smoothing);
      return {
        loss: out.loss,
        correct: out.correct,
        ...packGradients(out.grads),
        stats: packStats(out.stats),
      };
    } finally {
      x.dispose();
      y.dispose();
    }
  });
}

async function handle(message: ParentMessage): Promise<void> {
  try {
    if (message.kind === 'init') {
      await initBackend(message.backend);
      supernet = new Supernet(message.preset, message.classes, message.options);
      train = message.train;
      send({ kind: 'ready' });
      return;
    }
    const units = runStep(message);
    send({ kind: 'result', units });
  } catch (err) {
    send({ kind: 'error', message: (err as Error).stack ?? String(err) });
  }
}

if (!parentPort) {
  throw new Error('replica.ts is a worker_threads entry; start it through SupernetReplicaPool');
}
// Messages are handled one at a time: the trainer waits for each reply.
let queue = Promise.resolve();
parentPort.on('message', (message: ParentMessage) => {
  queue = queue.then(() => handle(message));
});

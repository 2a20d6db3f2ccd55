/**
 * Parameters and optimiser state survive a save and load bit for bit, and a
 * damaged or mismatched checkpoint is refused with the file named.
 */
import { mkdtemp, readdir, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { initBackend } from '../main/engine/backend.js';
import { CheckpointError, ParamStore } from '../main/engine/nn/params.js';
import { Rng } from '../main/engine/rng.js';
import {
  checkpointLabel,
  latestCheckpoint,
  listCheckpoints,
  loadCheckpoint,
  saveCheckpoint,
} from '../main/engine/train/checkpoint.js';
import { SgdOptimizer } from '../main/engine/train/optimizers.js';

/** A small store with every kind of parameter, drawn from `seed`. */
function makeStore(seed: number, extra = false): ParamStore {
  const store = new ParamStore(new Rng(seed), 'test');
  store.heNormal('conv', [3, 3, 2, 4], 36);
  store.normal('linear', [4, 3], 0.01);
  store.constant('bias', [3], 0, 'bias');
  store.constant('bn/gamma', [4], 1, 'bnScale');
  store.constant('bn/mean', [4], 0, 'bnRunningMean');
  if (extra) store.constant('extra', [2], 0, 'bias');
  return store;
}

function snapshot(store: ParamStore): Record<string, number[]> {
  return Object.fromEntries(store.toArrays().map((a) => [a.name, Array.from(a.values)]));
}

let dir: string;

beforeAll(async () => {
  await initBackend('wasm');
});

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'sgnas-ckpt-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('ParamStore save and load', () => {
  it('restores every value exactly into a store of the same layout', async () => {
    const saved = makeStore(1);
    saved.get('bn/mean').assign(tf.tensor1d([0.1, -0.2, 1e-7, 3.4028e38]));
    const restored = makeStore(2);

    await saved.save(dir, { note: 'round trip' });
    const meta = await restored.load(dir);

    // Float32 values travel as raw bytes: equality, not closeness.
    expect(snapshot(restored)).toEqual(snapshot(saved));
    expect(meta).toEqual({ note: 'round trip' });
    saved.dispose();
    restored.dispose();
  });

  it('detects a corrupted binary and names the file', async () => {
    const store = makeStore(1);
    await store.save(dir);
    const bin = path.join(dir, 'params.bin');
    const bytes = await readFile(bin);
    bytes[10] ^= 0xff;
    await writeFile(bin, bytes);

    const load = store.load(dir);

    await expect(load).rejects.toBeInstanceOf(CheckpointError);
    await expect(store.load(dir)).rejects.toThrow(/params\.bin does not match its manifest/);
    store.dispose();
  });

  it('refuses a checkpoint of another layout instead of half loading it', async () => {
    const small = makeStore(1);
    const large = makeStore(1, true);
    await small.save(dir);
    const before = snapshot(large);

    await expect(large.load(dir)).rejects.toThrow(/lacks tensor 'extra'/);
    expect(snapshot(large)).toEqual(before);
    small.dispose();
    large.dispose();
  });

  it('leaves no temporary files behind after a save', async () => {
    const store = makeStore(1);

    await store.save(dir);

    expect((await readdir(dir)).sort()).toEqual(['params.bin', 'params.json']);
    store.dispose();
  });
});

describe('training checkpoints', () => {
  it('round-trips parameters, optimiser state and trainer state', async () => {
    const store = makeStore(3);
    const sgd = new SgdOptimizer(store.trainables(), { momentum: 0.9 });
    const grad = new Map([['conv', tf.onesLike(store.get('conv'))]]);
    sgd.step(grad, 0.1);
    const label = checkpointLabel('supernet', 1);

    const folder = await saveCheckpoint(dir, label, { store, optimizer: sgd }, { epochsDone: 1 });
    const store2 = makeStore(4);
    const sgd2 = new SgdOptimizer(store2.trainables(), { momentum: 0.9 });
    const parts = { store: store2, optimizer: sgd2 };
    const state = await loadCheckpoint<{ epochsDone: number }>(folder, parts);

    expect(state).toEqual({ epochsDone: 1 });
    expect(snapshot(store2)).toEqual(snapshot(store));
    expect(sgd2.exportState()).toEqual(sgd.exportState());
    tf.dispose([...grad.values()]);
    [sgd, sgd2, store, store2].forEach((x) => x.dispose());
  });

  it('keeps the two newest checkpoints and ignores an interrupted save', async () => {
    const store = makeStore(5);
    for (let epoch = 1; epoch <= 3; epoch++) {
      await saveCheckpoint(dir, checkpointLabel('supernet', epoch), { store }, { epoch });
    }
    // What a process killed mid-save leaves: a hidden partial folder.
    await mkdir(path.join(dir, '.supernet-epoch-0004.partial-123'));

    const kept = await listCheckpoints(dir, 'supernet');

    expect(kept.map((p) => path.basename(p))).toEqual(
      ['supernet-epoch-0002', 'supernet-epoch-0003'],
    );
    expect(await latestCheckpoint(dir, 'supernet')).toBe(path.join(dir, 'supernet-epoch-0003'));
    expect(await latestCheckpoint(dir, 'generator')).toBeNull();
    store.dispose();
  });
});

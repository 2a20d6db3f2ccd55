/**
 * Replica threads for data-parallel supernet training on several cores.
 *
 * The wasm backend runs one thread per instance, so a second core needs a
 * second instance: a worker thread with its own tfjs and its own copy of the
 * supernet. Threads (not child processes) die with the process, so a killed
 * trainer leaves no orphans; `terminate` ends them on every normal exit.
 *
 * Where the worker entry is: next to this module as `replica.ts` when the
 * engine runs from source (the thread then loads tsx, under the CLI and under
 * vitest alike), or as `supernetReplica.js` beside the bundle that contains
 * this module (a bundler must emit replica.ts as that extra entry).
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

import type { BackendName } from '../../backend.js';
import type { ImageSet } from '../../data/imageSet.js';
import type { Supernet } from '../../nn/supernet.js';
import type {
  ParentMessage,
  PassUnit,
  ReplicaMessage,
  UnitResult,
} from './protocol.js';

/** File name of the bundled replica entry, beside the bundle that imports this module. */
export const BUNDLED_REPLICA_ENTRY = 'supernetReplica.js';

/**
 * How to start a replica thread: from TypeScript source, a small bootstrap
 * (run with `eval`) registers tsx's loader in the new thread and then imports
 * replica.ts, because Node 20 does not pass `--import` loaders on to worker
 * threads; from a bundle, the emitted replica entry beside it.
 */
export function replicaEntry(): { source: string | URL; eval: boolean } {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return { source: bundledReplicaEntry(here), eval: false };

  const tsxApi = pathToFileURL(tsxEsmApi(fileURLToPath(here))).href;
  const replica = new URL('./replica.ts', here).href;
  const source =
    `import(${JSON.stringify(tsxApi)})` +
    `.then((api) => { api.register(); return import(${JSON.stringify(replica)}); })` +
    '.catch((err) => { throw err; });';
  return { source, eval: true };
}

/**
 * The emitted replica entry of a bundle: beside the module, or one folder up
 * when the bundler put this module in a shared chunk (out/main/chunks/).
 *
 * @throws Error naming the places looked in when neither has the file.
 */
function bundledReplicaEntry(here: string): URL {
  const candidates = [`./${BUNDLED_REPLICA_ENTRY}`, `../${BUNDLED_REPLICA_ENTRY}`].map(
    (relative) => new URL(relative, here),
  );
  const found = candidates.find((url) => existsSync(fileURLToPath(url)));
  if (!found) {
    throw new Error(
      `no supernet replica entry at ${candidates.map((u) => fileURLToPath(u)).join(' or ')}: ` +
        `the build must emit main/engine/train/parallel/replica.ts as ${BUNDLED_REPLICA_ENTRY} ` +
        'beside the main bundle, or train with workers: 1',
    );
  }
  return found;
}

/**
 * The ES module file of tsx's `tsx/esm/api` export, found from the package's
 * own exports map: require.resolve would pick its CommonJS twin, which cannot
 * be imported on its own.
 */
function tsxEsmApi(from: string): string {
  const manifest = createRequire(from).resolve('tsx/package.json');
  const exportsMap = JSON.parse(readFileSync(manifest, 'utf8')).exports ?? {};
  const target = exportsMap['./esm/api']?.import;
  const file = typeof target === 'string' ? target : target?.default;
  if (typeof file !== 'string') {
    throw new Error(
      `tsx at ${path.dirname(manifest)} has no 'tsx/esm/api' ES module export; replica ` +
        'threads from TypeScript source need tsx 4 (or train with workers: 1)',
    );
  }
  return path.join(path.dirname(manifest), file);
}

/** Replica threads started and not yet exited, over the whole process. */
let liveThreads = 0;

/** How many replica threads are running now (0 once every pool is terminated). */
export function liveReplicaThreads(): number {
  return liveThreads;
}

/** A replica thread with one request in flight at most. */
class Replica {
  private pending: {
    resolve: (message: ReplicaMessage) => void;
    reject: (err: Error) => void;
  } | null = null;
  private failure: Error | null = null;

  constructor(readonly worker: Worker) {
    liveThreads += 1;
    worker.on('message', (message: ReplicaMessage) => this.settle(message, null));
    worker.on('error', (err) => this.settle(null, err));
    worker.on('exit', (code) => {
      liveThreads -= 1;
      this.settle(null, new Error(`supernet replica thread exited with code ${code}`));
    });
  }

  request(message: ParentMessage, transfer: ArrayBuffer[] = []): Promise<ReplicaMessage> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.pending) {
      return Promise.reject(new Error('supernet replica is busy: one request at a time'));
    }
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      this.worker.postMessage(message, transfer);
    });
  }

  private settle(message: ReplicaMessage | null, err: Error | null): void {
    const pending = this.pending;
    this.pending = null;
    if (err) {
      this.failure ??= err;
      pending?.reject(err);
      return;
    }
    if (message?.kind === 'error') {
      pending?.reject(new Error(`supernet replica failed: ${message.message}`));
      return;
    }
    pending?.resolve(message as ReplicaMessage);
  }
}

/**
 * Threads that run a share of each training step's passes.
 *
 * ```ts
 * const pool = await SupernetReplicaPool.start(supernet, train, 1, 'wasm');
 * try { const results = await pool.run(0, weights, indices, units, 0.1); }
 * finally { await pool.terminate(); }
 * ```
 */
export class SupernetReplicaPool {
  private constructor(private readonly replicas: Replica[]) {}

  /** Number of replica threads. */
  get size(): number {
    return this.replicas.length;
  }

  /**
   * Starts `count` threads, each with a supernet built like `supernet` and a
   * copy of the training images, and waits until all are ready.
   *
   * @throws Error when a thread fails to start; started threads are ended.
   */
  static async start(
    supernet: Supernet,
    train: ImageSet,
    count: number,
    backend: BackendName,
  ): Promise<SupernetReplicaPool> {
    const entry = replicaEntry();
    const replicas = Array.from(
      { length: count },
      () => new Replica(new Worker(entry.source, { eval: entry.eval })),
    );
    const pool = new SupernetReplicaPool(replicas);

    try {
      await Promise.all(
        replicas.map((r) =>
          r.request({
            kind: 'init',
            preset: supernet.preset,
            classes: supernet.classes,
            options: supernet.options,
            backend,
            train,
          }),
        ),
      );
    } catch (err) {
      await pool.terminate();
      throw new Error(
        `could not start ${count} supernet replica thread(s) (${(err as Error).message}); ` +
          'train with workers: 1 instead',
      );
    }
    return pool;
  }

  /**
   * Runs `units` of a step on replica `index` with the given weights.
   *
   * @returns one result per unit, in order.
   */
  async run(
    index: number,
    weights: Float32Array,
    indices: Int32Array,
    units: PassUnit[],
    smoothing: number,
  ): Promise<UnitResult[]> {
    const reply = await this.replicas[index].request({
      kind: 'step',
      weights,
      indices,
      units,
      smoothing,
    });
    if (reply.kind !== 'result') {
      throw new Error(`supernet replica answered a step with '${reply.kind}'`);
    }
    return reply.units;
  }

  /** Ends every thread (safe to call more than once). */
  async terminate(): Promise<void> {
    await Promise.all(this.replicas.map((r) => r.worker.terminate()));
  }
}

/**
 * Training checkpoints: a folder per checkpoint under a root folder, holding
 * the network's parameters (bundle `params`), the optimiser's buffers (bundle
 * `optimizer`) and the trainer's own state (`state.json`: counters, RNG and
 * sampler states, settings).
 *
 * A checkpoint folder is written under a hidden temporary name and renamed
 * into place when complete, so a process killed mid-save leaves the previous
 * checkpoint as the newest complete one. Each bundle also carries a sha256 of
 * its binary, so a file damaged later is reported rather than loaded.
 */
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

import {
  CheckpointError,
  readTensorBundle,
  writeTensorBundle,
  type ParamStore,
} from '../nn/params.js';
import type { Optimizer, OptimizerState } from './optimizers.js';

/** What a checkpoint restores into. */
export interface CheckpointParts {
  store: ParamStore;
  optimizer?: Optimizer;
}

const STATE_FILE = 'state.json';

/**
 * Folder name of a checkpoint: `<prefix>-epoch-0003` sorts by epoch.
 *
 * @param epochsDone completed epochs the checkpoint holds.
 */
export function checkpointLabel(prefix: string, epochsDone: number): string {
  return `${prefix}-epoch-${String(epochsDone).padStart(4, '0')}`;
}

/**
 * Writes a checkpoint folder `root/label` and removes older checkpoints with
 * the same prefix beyond the `keep` newest.
 *
 * ```ts
 * await saveCheckpoint(dir, checkpointLabel('supernet', 3), { store, optimizer }, state);
 * ```
 *
 * @param state JSON-serialisable trainer state.
 * @returns the checkpoint's folder.
 */
export async function saveCheckpoint(
  root: string,
  label: string,
  parts: CheckpointParts,
  state: unknown,
  keep = 2,
): Promise<string> {
  await mkdir(root, { recursive: true });
  const final = path.join(root, label);
  const temp = path.join(root, `.${label}.partial-${process.pid}`);
  await rm(temp, { recursive: true, force: true });

  try {
    await parts.store.save(temp);
    if (parts.optimizer) {
      const { slots, ...rest } = parts.optimizer.exportState();
      await writeTensorBundle(temp, 'optimizer', slots, rest);
    }
    await writeFile(path.join(temp, STATE_FILE), JSON.stringify(state, null, 1));
    await rm(final, { recursive: true, force: true });
    await rename(temp, final);
  } catch (err) {
    await rm(temp, { recursive: true, force: true });
    throw err;
  }

  await pruneCheckpoints(root, labelPrefix(label), keep);
  return final;
}

function labelPrefix(label: string): string {
  return label.replace(/-epoch-\d+$/, '');
}

/**
 * Complete checkpoint folders under `root` whose label starts with `prefix`,
 * oldest first (temporary folders of interrupted saves are not listed).
 */
export async function listCheckpoints(root: string, prefix: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(root);
  } catch {
    return [];
  }
  const pattern = new RegExp(`^${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-epoch-\\d+$`);
  return names.filter((n) => pattern.test(n)).sort().map((n) => path.join(root, n));
}

/** The newest complete checkpoint with this prefix, or null when there is none. */
export async function latestCheckpoint(root: string, prefix: string): Promise<string | null> {
  const all = await listCheckpoints(root, prefix);
  return all.length ? all[all.length - 1] : null;
}

async function pruneCheckpoints(root: string, prefix: string, keep: number): Promise<void> {
  const all = await listCheckpoints(root, prefix);
  for (const dir of all.slice(0, Math.max(all.length - keep, 0))) {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Restores a checkpoint folder into the parameters (and optimiser) and
 * returns the trainer state saved with it.
 *
 * @throws CheckpointError naming the file when one is missing, corrupt
 *   (checksum mismatch) or written for another network layout.
 */
export async function loadCheckpoint<T>(dir: string, parts: CheckpointParts): Promise<T> {
  const stateFile = path.join(dir, STATE_FILE);
  let state: T;
  try {
    state = JSON.parse(await readFile(stateFile, 'utf8')) as T;
  } catch (err) {
    throw new CheckpointError(
      stateFile,
      `cannot read trainer state ${stateFile} (${(err as Error).message}); the checkpoint ` +
        'is incomplete: delete it to resume from an earlier one',
    );
  }

  await parts.store.load(dir);
  if (parts.optimizer) {
    const bundle = await readTensorBundle(dir, 'optimizer');
    const meta = bundle.meta as Omit<OptimizerState, 'slots'>;
    try {
      parts.optimizer.importState({ ...meta, slots: bundle.tensors });
    } catch (err) {
      throw new CheckpointError(path.join(dir, 'optimizer.bin'), (err as Error).message);
    }
  }
  return state;
}

/**
 * Restores the newest checkpoint that loads cleanly. A damaged one (checksum
 * mismatch, missing or truncated file) is reported through `onSkip` and the
 * one before it is tried, so a kill during a save, or a file damaged later,
 * costs one epoch rather than the run.
 *
 * @param check inspects a candidate's state before any weight is overwritten;
 *   throw there to refuse it outright (e.g. written with other settings).
 * @returns the folder and state restored, or null when no checkpoint loads.
 */
export async function loadNewestValidCheckpoint<T>(
  root: string,
  prefix: string,
  parts: CheckpointParts,
  onSkip: (dir: string, reason: string) => void,
  check: (state: T, dir: string) => void = () => undefined,
): Promise<{ dir: string; state: T } | null> {
  const candidates = (await listCheckpoints(root, prefix)).reverse();

  for (const dir of candidates) {
    let peek: T;
    try {
      peek = JSON.parse(await readFile(path.join(dir, STATE_FILE), 'utf8')) as T;
    } catch (err) {
      onSkip(dir, `its ${STATE_FILE} cannot be read (${(err as Error).message})`);
      continue;
    }
    check(peek, dir);

    try {
      return { dir, state: await loadCheckpoint<T>(dir, parts) };
    } catch (err) {
      if (!(err instanceof CheckpointError)) throw err;
      onSkip(dir, err.message);
    }
  }
  return null;
}

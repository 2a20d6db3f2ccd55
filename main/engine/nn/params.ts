/**
 * Named parameters of a network (tf.Variables) with seeded initialisation, and
 * the on-disk tensor bundle they are saved in.
 *
 * A bundle is two files in one folder: `<name>.bin`, every tensor's float32
 * values back to back (little-endian), and `<name>.json`, a manifest listing
 * each tensor's name, shape and offset, the binary's byte length and its
 * sha256. Both files are written under a temporary name and then renamed, so
 * a process killed mid-write never leaves a half-written file under the real
 * name; a binary that does not match its manifest is refused on load.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

import * as tf from '@tensorflow/tfjs';

import type { Rng } from '../rng.js';

/**
 * What a parameter is, which decides its initialisation, whether it trains and
 * whether weight decay applies to it.
 */
export type ParamKind =
  | 'conv'
  | 'linear'
  | 'bias'
  | 'bnScale'
  | 'bnShift'
  | 'bnRunningMean'
  | 'bnRunningVariance';

/** One named parameter of a ParamStore. */
export interface Param {
  /** Logical name, stable across runs: the key in bundles and gradient maps. */
  readonly name: string;
  readonly variable: tf.Variable;
  readonly kind: ParamKind;
  /** False for BN running statistics, which the optimiser never touches. */
  readonly trainable: boolean;
  /** True for conv and linear weights: L2 weight decay applies (not BN, bias). */
  readonly decay: boolean;
}

/** A tensor's values outside tfjs, as stored in a bundle. */
export interface NamedArray {
  name: string;
  shape: number[];
  values: Float32Array;
}

/** The manifest of a bundle (`<name>.json`). */
export interface BundleManifest {
  format: 'sgnas-tensor-bundle';
  version: 1;
  /** File name of the binary, relative to the manifest's folder. */
  binary: string;
  byteLength: number;
  sha256: string;
  tensors: { name: string; shape: number[]; offset: number; length: number }[];
  /** Free-form JSON stored beside the tensors (counters, RNG states, config). */
  meta: unknown;
}

/** A checkpoint or bundle file that is missing, corrupt or does not fit. */
export class CheckpointError extends Error {
  /** The file at fault. */
  readonly file: string;

  constructor(file: string, message: string) {
    super(message);
    this.name = 'CheckpointError';
    this.file = file;
  }
}

const KIND_TRAINABLE: Record<ParamKind, boolean> = {
  conv: true,
  linear: true,
  bias: true,
  bnScale: true,
  bnShift: true,
  bnRunningMean: false,
  bnRunningVariance: false,
};

let storeCounter = 0;

/**
 * Named tf.Variables with seeded initialisation. Logical names ("layer0/sub1/
 * k5/dw") are what callers see; the tfjs variable names carry a per-store
 * prefix so that two stores with the same layout (say, two supernets in one
 * test) can live in one tfjs engine, which refuses duplicate variable names.
 */
export class ParamStore {
  private readonly params = new Map<string, Param>();
  private readonly byTfName = new Map<string, Param>();
  private readonly prefix: string;

  /**
   * @param rng seeded stream every initialiser draws from, in creation order,
   *   so the same seed and the same layout give the same values.
   * @param scope readable part of the tfjs variable names.
   */
  constructor(
    private readonly rng: Rng,
    scope = 'params',
  ) {
    storeCounter += 1;
    this.prefix = `${scope}#${storeCounter}/`;
  }

  /**
   * A conv weight drawn from He (Kaiming) normal, std = sqrt(2 / fanOut).
   *
   * @param fanOut output connections per input value: k*k*cOut for a full
   *   conv, cOut for a 1x1 conv, k*k for a depthwise conv (multiplier 1).
   */
  heNormal(name: string, shape: number[], fanOut: number): tf.Variable {
    return this.normal(name, shape, Math.sqrt(2 / fanOut), 'conv');
  }

  /** A weight drawn from N(0, std^2). */
  normal(name: string, shape: number[], std: number, kind: ParamKind = 'linear'): tf.Variable {
    const size = shape.reduce((a, b) => a * b, 1);
    const values = new Float32Array(size);
    for (let i = 0; i < size; i++) values[i] = this.rng.normal() * std;
    return this.add(name, kind, tf.tensor(values, shape, 'float32'));
  }

  /** A tensor of one constant value (BN scale 1, shift 0, running stats). */
  constant(name: string, shape: number[], value: number, kind: ParamKind): tf.Variable {
    return this.add(name, kind, tf.fill(shape, value, 'float32'));
  }

  /** The variable with this logical name. @throws RangeError if there is none. */
  get(name: string): tf.Variable {
    return this.param(name).variable;
  }

  /** The parameter with this logical name. @throws RangeError if there is none. */
  param(name: string): Param {
    const param = this.params.get(name);
    if (!param) {
      throw new RangeError(
        `no parameter named '${name}' in this store (${this.params.size} held)`,
      );
    }
    return param;
  }

  /** The parameter behind a tfjs variable name (as keys of tf.variableGrads). */
  byVariableName(tfName: string): Param | undefined {
    return this.byTfName.get(tfName);
  }

  /** Every parameter, in creation order. */
  entries(): Param[] {
    return [...this.params.values()];
  }

  /** The parameters an optimiser updates (everything but BN running stats). */
  trainables(): Param[] {
    return this.entries().filter((p) => p.trainable);
  }

  /** Number of trainable values (running statistics are not parameters). */
  trainableCount(): number {
    return this.trainables().reduce((sum, p) => sum + p.variable.size, 0);
  }

  /** Copies every value out of tfjs, in creation order. */
  toArrays(): NamedArray[] {
    return this.entries().map((p) => ({
      name: p.name,
      shape: [...p.variable.shape],
      values: (p.variable.dataSync() as Float32Array).slice(),
    }));
  }

  /**
   * Assigns values to the store's variables. Every variable must be present
   * with its exact shape, and no unknown name may appear, so a checkpoint of
   * another layout is refused instead of half loaded.
   *
   * @param source where the arrays came from, for error messages.
   * @throws CheckpointError naming the missing, unexpected or misshapen tensor.
   */
  fromArrays(arrays: NamedArray[], source: string): void {
    const byName = new Map(arrays.map((a) => [a.name, a]));
    for (const a of arrays) {
      if (!this.params.has(a.name)) {
        throw new CheckpointError(
          source,
          `${source} holds tensor '${a.name}', which this network does not have; ` +
            'the checkpoint was written for another preset or settings',
        );
      }
    }

    for (const p of this.params.values()) {
      const a = byName.get(p.name);
      if (!a) {
        throw new CheckpointError(
          source,
          `${source} lacks tensor '${p.name}'; the checkpoint was written for another ` +
            'preset or settings',
        );
      }
      if (a.shape.join(',') !== p.variable.shape.join(',')) {
        throw new CheckpointError(
          source,
          `${source}: tensor '${p.name}' has shape [${a.shape}], the network expects ` +
            `[${p.variable.shape}]`,
        );
      }
    }

    for (const p of this.params.values()) {
      const a = byName.get(p.name) as NamedArray;
      tf.tidy(() => p.variable.assign(tf.tensor(a.values, a.shape, 'float32')));
    }
  }

  /**
   * Saves every variable as the bundle `params` in `dir` (created if needed).
   *
   * @returns the manifest written.
   */
  async save(dir: string, meta: unknown = {}): Promise<BundleManifest> {
    return writeTensorBundle(dir, 'params', this.toArrays(), meta);
  }

  /**
   * Loads the bundle `params` from `dir` into the variables.
   *
   * @returns the bundle's meta JSON.
   * @throws CheckpointError when a file is missing, the checksum does not
   *   match, or the tensors do not fit this store.
   */
  async load(dir: string): Promise<unknown> {
    const bundle = await readTensorBundle(dir, 'params');
    this.fromArrays(bundle.tensors, path.join(dir, 'params.bin'));
    return bundle.meta;
  }

  /** Releases every variable; the store is unusable afterwards. */
  dispose(): void {
    for (const p of this.params.values()) p.variable.dispose();
    this.params.clear();
    this.byTfName.clear();
  }

  private add(name: string, kind: ParamKind, init: tf.Tensor): tf.Variable {
    if (this.params.has(name)) {
      init.dispose();
      throw new RangeError(`parameter '${name}' is defined twice`);
    }

    const trainable = KIND_TRAINABLE[kind];
    const variable = tf.variable(init, trainable, this.prefix + name, 'float32');
    init.dispose();
    const param: Param = {
      name,
      variable,
      kind,
      trainable,
      decay: kind === 'conv' || kind === 'linear',
    };
    this.params.set(name, param);
    this.byTfName.set(variable.name, param);
    return variable;
  }
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Writes `data` to `file` through a temporary file and a rename. */
async function writeAtomically(file: string, data: Uint8Array | string): Promise<void> {
  const temp = `${file}.partial-${process.pid}`;
  try {
    await writeFile(temp, data);
    await rename(temp, file);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}

/**
 * Writes tensors as the bundle `<name>.bin` + `<name>.json` in `dir`.
 *
 * The binary goes first and the manifest (with the binary's sha256) second,
 * each through a temporary file and a rename: a crash in between leaves a
 * binary whose checksum the old manifest does not match, which a load
 * reports instead of silently mixing two saves.
 *
 * @returns the manifest written.
 */
export async function writeTensorBundle(
  dir: string,
  name: string,
  tensors: NamedArray[],
  meta: unknown = {},
): Promise<BundleManifest> {
  await mkdir(dir, { recursive: true });
  const total = tensors.reduce((sum, t) => sum + t.values.length, 0);
  const all = new Float32Array(total);
  const entries: BundleManifest['tensors'] = [];
  let offset = 0;

  for (const t of tensors) {
    all.set(t.values, offset);
    entries.push({ name: t.name, shape: [...t.shape], offset, length: t.values.length });
    offset += t.values.length;
  }

  const bytes = new Uint8Array(all.buffer, all.byteOffset, all.byteLength);
  const manifest: BundleManifest = {
    format: 'sgnas-tensor-bundle',
    version: 1,
    binary: `${name}.bin`,
    byteLength: bytes.byteLength,
    sha256: sha256(bytes),
    tensors: entries,
    meta,
  };

  await writeAtomically(path.join(dir, manifest.binary), bytes);
  await writeAtomically(path.join(dir, `${name}.json`), JSON.stringify(manifest));
  return manifest;
}

async function readOrExplain(file: string, what: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    throw new CheckpointError(
      file,
      `cannot read ${what} ${file} (${(err as Error).message}); the checkpoint is ` +
        'incomplete: resume from an earlier one or start over',
    );
  }
}

/**
 * Reads the bundle `<name>` from `dir` and verifies its checksum.
 *
 * @returns the tensors (in stored order) and the meta JSON.
 * @throws CheckpointError naming the file when it is missing, its manifest is
 *   not a bundle manifest, or the binary's length or sha256 differ from the
 *   manifest's.
 */
export async function readTensorBundle(
  dir: string,
  name: string,
): Promise<{ tensors: NamedArray[]; meta: unknown }> {
  const manifestFile = path.join(dir, `${name}.json`);
  let manifest: BundleManifest;
  try {
    manifest = JSON.parse((await readOrExplain(manifestFile, 'manifest')).toString('utf8'));
  } catch (err) {
    if (err instanceof CheckpointError) throw err;
    throw new CheckpointError(manifestFile, `manifest ${manifestFile} is not valid JSON`);
  }
  if (manifest?.format !== 'sgnas-tensor-bundle' || !Array.isArray(manifest.tensors)) {
    throw new CheckpointError(
      manifestFile,
      `${manifestFile} is not a tensor bundle manifest (format ${manifest?.format})`,
    );
  }

  const binaryFile = path.join(dir, manifest.binary);
  const raw = await readOrExplain(binaryFile, 'tensor data');
  if (raw.byteLength !== manifest.byteLength || sha256(raw) !== manifest.sha256) {
    throw new CheckpointError(
      binaryFile,
      `${binaryFile} does not match its manifest (${raw.byteLength} bytes, expected ` +
        `${manifest.byteLength}; sha256 differs): the file is corrupt or from another ` +
        'save; resume from an earlier checkpoint',
    );
  }

  const copy = new Uint8Array(raw.byteLength);
  copy.set(raw);
  const all = new Float32Array(copy.buffer);
  const tensors = manifest.tensors.map((t) => ({
    name: t.name,
    shape: t.shape,
    values: all.subarray(t.offset, t.offset + t.length),
  }));
  return { tensors, meta: manifest.meta };
}

/**
 * Chooses the tfjs backend the engine trains on.
 *
 * Preference order: the native TensorFlow bindings with CUDA
 * (`@tensorflow/tfjs-node-gpu`), the native CPU bindings (`@tensorflow/tfjs-node`),
 * WebAssembly (`@tensorflow/tfjs-backend-wasm`), then tfjs's plain JavaScript cpu
 * backend. The native packages are optional dependencies whose install step
 * downloads libtensorflow, so on machines without that download they are simply
 * absent and the engine falls back to wasm.
 */
import * as tf from '@tensorflow/tfjs';

import { shareIdentityOnWasm } from './ops/kernels/sharedIdentity.js';

export type BackendName = 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu';

export interface BackendInfo {
  /** The engine's name for the backend that is active. */
  name: BackendName;
  /** The name tfjs knows it by (`tf.getBackend()`). */
  tfBackend: string;
  /** One line per better backend that was skipped, saying why. */
  tried: string[];
}

interface Candidate {
  name: BackendName;
  tfBackend: string;
  /** The npm package that provides it, or null when tfjs itself does. */
  packageName: string | null;
  /** What to tell the user when a forced backend cannot load. */
  fix: string;
}

const CANDIDATES: Candidate[] = [
  {
    name: 'tensorflow-gpu',
    tfBackend: 'tensorflow',
    packageName: '@tensorflow/tfjs-node-gpu',
    fix:
      'install the optional package @tensorflow/tfjs-node-gpu (needs CUDA and a ' +
      'download of libtensorflow), or use --backend tensorflow, wasm or cpu',
  },
  {
    name: 'tensorflow',
    tfBackend: 'tensorflow',
    packageName: '@tensorflow/tfjs-node',
    fix:
      'install the optional package @tensorflow/tfjs-node (its install step downloads ' +
      'libtensorflow), or use --backend wasm',
  },
  {
    name: 'wasm',
    tfBackend: 'wasm',
    packageName: '@tensorflow/tfjs-backend-wasm',
    fix: 'reinstall dependencies (npm ci) so @tensorflow/tfjs-backend-wasm is present, ' +
      'or use --backend cpu',
  },
  {
    name: 'cpu',
    tfBackend: 'cpu',
    packageName: null,
    fix: 'reinstall dependencies (npm ci) so @tensorflow/tfjs is intact',
  },
];

let active: BackendInfo | null = null;
let pending: Promise<BackendInfo> | null = null;

/**
 * Loads the best available backend, or the one forced, and makes it tfjs's
 * active backend.
 *
 * Calling it again without `forced` (or with the backend already active)
 * returns the same info; forcing a different backend switches to it.
 *
 * ```ts
 * const info = await initBackend();          // e.g. { name: 'wasm', ... }
 * await initBackend('cpu');                  // switch for a reference run
 * ```
 *
 * @param forced A backend to use instead of the best one available.
 * @returns Which backend is active and why better ones were skipped.
 * @throws Error naming the forced backend, the reason, and the fix when a
 *   forced backend cannot load; Error when no backend at all can load.
 */
export async function initBackend(forced?: BackendName): Promise<BackendInfo> {
  if (forced !== undefined && !CANDIDATES.some((c) => c.name === forced)) {
    const names = CANDIDATES.map((c) => c.name).join(', ');
    throw new Error(`Unknown backend '${String(forced)}': expected one of ${names}.`);
  }

  // Concurrent callers share one load so tfjs is never initialised twice at once.
  while (pending !== null) await pending.catch(() => undefined);

  if (active !== null && (forced === undefined || forced === active.name)) return active;

  pending = forced === undefined ? loadBest() : loadForced(forced);
  try {
    active = await pending;
    return active;
  } finally {
    pending = null;
  }
}

/**
 * The engine's name for the active backend.
 *
 * @throws Error when `initBackend` has not been awaited yet.
 */
export function activeBackend(): BackendName {
  if (active === null) {
    throw new Error(
      'No backend selected yet: await initBackend() before running the engine.',
    );
  }
  return active.name;
}

/**
 * Whether the active backend is native TensorFlow, whose own gradient kernels
 * the engine's ops use directly.
 *
 * @throws Error when `initBackend` has not been awaited yet.
 */
export function isNativeBackend(): boolean {
  const name = activeBackend();
  return name === 'tensorflow' || name === 'tensorflow-gpu';
}

async function loadBest(): Promise<BackendInfo> {
  const tried: string[] = [];

  for (const candidate of CANDIDATES) {
    try {
      await activate(candidate);
      return { name: candidate.name, tfBackend: candidate.tfBackend, tried };
    } catch (err) {
      tried.push(`${candidate.name}: ${reason(err, candidate)}`);
    }
  }

  throw new Error(`No tfjs backend could be loaded (${tried.join('; ')}).`);
}

async function loadForced(name: BackendName): Promise<BackendInfo> {
  const candidate = CANDIDATES.find((c) => c.name === name) as Candidate;

  try {
    await activate(candidate);
  } catch (err) {
    throw new Error(
      `Backend '${name}' could not be loaded: ${reason(err, candidate)}. To fix: ` +
        `${candidate.fix}.`,
    );
  }

  return { name, tfBackend: candidate.tfBackend, tried: [] };
}

/** Imports the candidate's package if any and makes it tfjs's active backend. */
async function activate(candidate: Candidate): Promise<void> {
  await quietly(async () => {
    if (candidate.packageName !== null) {
      // A variable specifier keeps bundlers and tsc from requiring the optional
      // native packages at build time.
      const specifier: string = candidate.packageName;
      await import(specifier);
    }

    const ok = await tf.setBackend(candidate.tfBackend);
    if (!ok || tf.getBackend() !== candidate.tfBackend) {
      throw new Error(`tfjs refused to initialise its '${candidate.tfBackend}' backend`);
    }

    // The cpu backend prints a banner on its first tensor; trigger it while muted.
    tf.tidy(() => tf.scalar(0).dataSync());
  });

  if (candidate.tfBackend === 'wasm') shareIdentityOnWasm();
}

/**
 * Runs `fn` with tfjs's warnings off and console.log/info sent to stderr, so
 * loading a backend never writes to stdout (which a CLI may use for JSON).
 */
async function quietly<T>(fn: () => Promise<T>): Promise<T> {
  const env = tf.env();
  const wasProd = env.getBool('PROD');
  const { log, info } = console;
  console.log = (...args: unknown[]) => console.error(...args);
  console.info = console.log;
  env.set('PROD', true);

  try {
    return await fn();
  } finally {
    env.set('PROD', wasProd);
    console.log = log;
    console.info = info;
  }
}

function reason(err: unknown, candidate: Candidate): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    const missing = code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
    // Only the package itself being absent is "not installed"; a missing
    // dependency of it (say libtensorflow's loader) keeps its own message.
    if (missing && candidate.packageName && err.message.includes(`'${candidate.packageName}'`)) {
      return `${candidate.packageName} is not installed`;
    }
    return firstLine(err.message);
  }
  return String(err);
}

function firstLine(text: string): string {
  return text.split('\n')[0].trim();
}

/**
 * Input checks for the registry's writes: each returns the row to store or
 * throws a RegistryError that names the offending value, before anything is
 * written.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { RegistryError } from './errors.js';
import type {
  ArchitectureInput,
  ArtifactInput,
  MetricPoint,
  NewRun,
  SweepInput,
} from './registry.js';
import { ARTIFACT_KINDS, RUN_KINDS } from './schema.js';

/** Checks createRun input: a known kind, a JSON-object config, an integer seed. */
export function validateNewRun(input: NewRun): void {
  if (!RUN_KINDS.includes(input.kind)) {
    throw new RegistryError(
      'INVALID',
      `unknown run kind '${String(input.kind)}'; expected one of ${RUN_KINDS.join(', ')}`,
    );
  }

  const config = input.config as unknown;
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    const seen = Array.isArray(config) ? 'an array' : String(config);
    throw new RegistryError('INVALID', `a run's config must be a JSON object, got ${seen}`);
  }
  try {
    JSON.stringify(config);
  } catch (err) {
    throw new RegistryError(
      'INVALID',
      `a run's config must be JSON-serialisable: ${(err as Error).message}`,
      { cause: err },
    );
  }

  if (input.seed !== undefined && input.seed !== null && !Number.isSafeInteger(input.seed)) {
    throw new RegistryError('INVALID', `seed must be an integer, got ${input.seed}`);
  }
}

/** Checks one metric point and returns its row; non-finite values are refused. */
export function validateMetric(runId: string, p: MetricPoint, i: number, now: number) {
  const where = `metric point ${i} of run ${runId}`;
  if (typeof p.stage !== 'string' || p.stage === '' || typeof p.name !== 'string' || !p.name) {
    throw new RegistryError('INVALID', `${where} needs a non-empty stage and name`);
  }
  const counter = (v: number) => Number.isSafeInteger(v) && v >= 0;
  if (!counter(p.epoch) || !counter(p.step)) {
    throw new RegistryError(
      'INVALID',
      `${where} (${p.name}) needs integer epoch and step >= 0, ` +
        `got epoch ${p.epoch}, step ${p.step}`,
    );
  }
  if (typeof p.value !== 'number' || !Number.isFinite(p.value)) {
    // SQLite stores NaN as NULL; a diverged loss is the job's failure message,
    // not a metric row.
    throw new RegistryError(
      'INVALID',
      `${where} (${p.stage}/${p.name} epoch ${p.epoch} step ${p.step}) has value ${p.value}; ` +
        'only finite numbers are stored',
    );
  }

  return {
    runId,
    stage: p.stage,
    epoch: p.epoch,
    step: p.step,
    name: p.name,
    value: p.value,
    at: p.at ?? now,
  };
}

/** Checks an artifact's kind; returns its path normalised, inside the run folder. */
export function validateArtifactPath(runId: string, input: ArtifactInput): string {
  if (!ARTIFACT_KINDS.includes(input.kind)) {
    throw new RegistryError(
      'INVALID',
      `unknown artifact kind '${String(input.kind)}' for run ${runId}; ` +
        `expected one of ${ARTIFACT_KINDS.join(', ')}`,
    );
  }

  const relPath = path.posix.normalize(String(input.path).replace(/\\/g, '/'));
  if (
    path.isAbsolute(input.path) ||
    relPath.startsWith('/') ||
    relPath === '.' ||
    relPath === '..' ||
    relPath.startsWith('../')
  ) {
    throw new RegistryError(
      'INVALID',
      `artifact path '${input.path}' of run ${runId} must be relative to the run folder and ` +
        'stay inside it',
    );
  }
  return relPath;
}

/** sha256 (hex) and size of a file, or INVALID when it cannot be read. */
export function hashFile(file: string, runId: string): { sha256: string; bytes: number } {
  let data: Buffer;
  try {
    data = fs.readFileSync(file);
  } catch (err) {
    throw new RegistryError(
      'INVALID',
      `cannot read artifact ${file} of run ${runId}: ${(err as Error).message}. ` +
        'Write the file before recording it.',
      { cause: err },
    );
  }
  return { sha256: createHash('sha256').update(data).digest('hex'), bytes: data.length };
}

/** Checks one architecture entry and returns its row. */
export function validateArchitecture(runId: string, e: ArchitectureInput, i: number, now: number) {
  const where = `architecture ${i} of run ${runId}`;
  const finiteOrNull = (v: unknown) => v === null || v === undefined || Number.isFinite(v);
  if (!Number.isFinite(e.flopsM) || !Number.isSafeInteger(e.params) || e.params < 0) {
    throw new RegistryError(
      'INVALID',
      `${where} needs finite flopsM and integer params >= 0, got ${e.flopsM} and ${e.params}`,
    );
  }
  if (!finiteOrNull(e.budgetM) || !finiteOrNull(e.accuracy)) {
    throw new RegistryError(
      'INVALID',
      `${where} has budgetM ${e.budgetM} and accuracy ${e.accuracy}; each must be a finite ` +
        'number or null',
    );
  }
  if (typeof e.compact !== 'string' || e.architecture === undefined) {
    throw new RegistryError('INVALID', `${where} needs an architecture and its compact text`);
  }

  return {
    runId,
    budgetM: e.budgetM ?? null,
    architecture: e.architecture,
    compact: e.compact,
    flopsM: e.flopsM,
    params: e.params,
    accuracy: e.accuracy ?? null,
    createdAt: now,
  };
}

/** Checks a sweep evaluation and returns its row. */
export function validateSweep(runId: string, s: SweepInput) {
  const pOk = (v: unknown) => v === null || v === undefined || Number.isFinite(v);
  if (!Number.isFinite(s.tau) || !Number.isFinite(s.pearson) || !pOk(s.tauP) || !pOk(s.pearsonP)) {
    throw new RegistryError(
      'INVALID',
      `sweep of run ${runId} has tau ${s.tau}, pearson ${s.pearson}, p-values ${s.tauP} and ` +
        `${s.pearsonP}; correlations must be finite, p-values finite or null`,
    );
  }
  if (!Number.isSafeInteger(s.n) || s.n < 2) {
    throw new RegistryError('INVALID', `sweep of run ${runId} needs n >= 2 targets, got ${s.n}`);
  }

  return {
    runId,
    tau: s.tau,
    tauP: s.tauP ?? null,
    pearson: s.pearson,
    pearsonP: s.pearsonP ?? null,
    n: s.n,
    createdAt: Date.now(),
  };
}

/**
 * The run registry: every run the workbench starts, its metrics, artifacts,
 * generated architectures and sweep evaluations, in one SQLite file.
 *
 * Several processes open the same file at once (the desktop app, a CLI
 * `runs list`, the worker running a search), so the database runs in WAL mode
 * with a busy timeout, and every state change is a single conditional UPDATE
 * that cannot race another process's change.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Client, createClient } from '@libsql/client';
import { and, asc, count, desc, eq, gt, inArray, like, type SQL, sql } from 'drizzle-orm';
import { drizzle, type LibSQLDatabase } from 'drizzle-orm/libsql';
import { migrate } from 'drizzle-orm/libsql/migrator';
import { RegistryError } from './errors.js';
import { toCsv } from './exportFiles.js';
import { checkDatabaseFile, configureConnection } from './openChecks.js';
import { findMigrationsFolder, resolveDbPath, runFolder } from './paths.js';
import * as schema from './schema.js';
import {
  type ArtifactKind,
  architectures,
  artifacts,
  metrics,
  type RunKind,
  type RunStatus,
  runs,
  sweeps,
} from './schema.js';
import {
  hashFile,
  validateArchitecture,
  validateArtifactPath,
  validateMetric,
  validateNewRun,
  validateSweep,
} from './validate.js';

/** A run as stored. */
export type RunRecord = typeof runs.$inferSelect;
/** One metric point as stored. */
export type MetricRecord = typeof metrics.$inferSelect;
/** One artifact as stored. */
export type ArtifactRecord = typeof artifacts.$inferSelect;
/** One generated or evaluated architecture as stored. */
export type ArchitectureRecord = typeof architectures.$inferSelect;
/** One sweep evaluation as stored. */
export type SweepRecord = typeof sweeps.$inferSelect;

/** What createRun needs; everything but kind and config has a default. */
export interface NewRun {
  kind: RunKind;
  /** The full, resolved configuration (a JSON object). */
  config: Record<string, unknown>;
  name?: string;
  seed?: number | null;
  backend?: string | null;
  /** Merged over { node: process.versions.node }. */
  libraryVersions?: Record<string, string>;
  parentRunId?: string | null;
}

/** One metric point; `at` defaults to now. */
export interface MetricPoint {
  stage: string;
  epoch: number;
  step: number;
  name: string;
  value: number;
  at?: number;
}

/** An artifact to record; sha256 and bytes are computed from the file when omitted. */
export interface ArtifactInput {
  kind: ArtifactKind;
  /** Path relative to the run folder, e.g. "checkpoints/supernet-epoch-3.bin". */
  path: string;
  sha256?: string;
  bytes?: number;
}

/** An architecture to record. */
export interface ArchitectureInput {
  /** The constraint it was generated for, in MFLOPs; null when there was none. */
  budgetM: number | null;
  architecture: unknown;
  /** One-line text form, for tables and logs. */
  compact: string;
  flopsM: number;
  params: number;
  accuracy?: number | null;
}

/** A sweep evaluation: rank and linear correlation of target vs. generated FLOPs. */
export interface SweepInput {
  tau: number;
  tauP?: number | null;
  pearson: number;
  pearsonP?: number | null;
  n: number;
}

/** What the process running a run learns when it reports in. */
export interface RunSignal {
  cancelRequested: boolean;
}

/** Filters for listRuns. */
export interface ListRunsOptions {
  status?: RunStatus | RunStatus[];
  kind?: RunKind;
  parentRunId?: string;
  limit?: number;
}

/** Filters for getMetrics. */
export interface MetricQuery {
  stage?: string;
  name?: string;
  /** Only rows whose id is above this (for polling a live run). */
  afterId?: number;
}

/** Options for RunRegistry.open. */
export interface OpenOptions {
  /** The committed drizzle/ folder; found by findMigrationsFolder when omitted. */
  migrationsFolder?: string;
  /** How long a write waits for another process's lock, in ms (default 10 s). */
  busyTimeoutMs?: number;
}

/** Row counts of what a run recorded. */
export interface RunCounts {
  metrics: number;
  artifacts: number;
  architectures: number;
  sweeps: number;
}

/** Statuses after which a run never changes again. */
export const TERMINAL_STATUSES: readonly RunStatus[] = ['completed', 'failed', 'cancelled'];

/** Statuses from which markRunning may (re)start a run. */
export const STARTABLE_STATUSES: readonly RunStatus[] = ['queued', 'interrupted'];

/** Default heartbeat age after which a `running` run counts as dead. */
export const DEFAULT_STALE_AFTER_MS = 30 * 60 * 1000;

const METRIC_CHUNK = 500;

/** True when a run can no longer change (completed, failed or cancelled). */
export function isTerminal(status: RunStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

/**
 * True when a process with this pid exists on this machine. EPERM means it
 * exists but belongs to another user, which still counts as alive.
 */
export function isPidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The registry of runs, over one SQLite file.
 *
 * ```ts
 * const registry = await RunRegistry.open();
 * const run = await registry.createRun({ kind: 'search', config });
 * await registry.markRunning(run.id);
 * await registry.recordMetrics(run.id, [{ stage: 'supernet', epoch: 0, step: 1,
 *   name: 'loss', value: 2.1 }]);
 * await registry.finish(run.id, 'completed');
 * registry.close();
 * ```
 */
export class RunRegistry {
  /** The database file, absolute. */
  readonly dbPath: string;

  private readonly client: Client;
  private readonly db: LibSQLDatabase<typeof schema>;

  private constructor(dbPath: string, client: Client) {
    this.dbPath = dbPath;
    this.client = client;
    this.db = drizzle(client, { schema });
  }

  /**
   * Opens (creating if needed) the registry database and brings its schema up
   * to date. A second open of an up-to-date file applies nothing.
   *
   * @param dbPath The database file; resolveDbPath() (SGNAS_DB or the per-user
   *   data folder) when omitted.
   * @param options Migrations folder and busy timeout.
   * @throws RegistryError NOT_A_DATABASE when the file exists but is not SQLite
   *   (the file is not touched); READ_ONLY when its folder cannot be written;
   *   MIGRATION when the schema cannot be brought up to date.
   */
  static async open(dbPath?: string, options: OpenOptions = {}): Promise<RunRegistry> {
    const file = path.resolve(dbPath ?? resolveDbPath());
    checkDatabaseFile(file);

    const client = createClient({
      url: pathToFileURL(file).href,
      // One connection: per-connection PRAGMAs then hold for every query, and
      // concurrent calls queue instead of opening more handles.
      concurrency: 1,
      timeout: options.busyTimeoutMs ?? 10_000,
    });

    try {
      await configureConnection(client, file);
      const registry = new RunRegistry(file, client);
      await registry.migrate(options.migrationsFolder ?? findMigrationsFolder());
      return registry;
    } catch (err) {
      client.close();
      throw err;
    }
  }

  /** Closes the connection; the registry cannot be used afterwards. */
  close(): void {
    this.client.close();
  }

  /** The folder holding a run's files: <database folder>/runs/<id>/. */
  runFolder(runId: string): string {
    return runFolder(this.dbPath, runId);
  }

  /**
   * Registers a new run in state `queued` and creates its folder.
   *
   * @returns The stored run.
   * @throws RegistryError INVALID for an unknown kind or a config that is not
   *   a JSON object; NOT_FOUND for an unknown parentRunId.
   */
  async createRun(input: NewRun): Promise<RunRecord> {
    validateNewRun(input);
    if (input.parentRunId) await this.getRun(input.parentRunId);

    const id = randomUUID();
    const row = {
      id,
      kind: input.kind,
      name: input.name ?? `${input.kind} ${new Date().toISOString()}`,
      status: 'queued' as const,
      config: input.config,
      seed: input.seed ?? null,
      backend: input.backend ?? null,
      libraryVersions: { node: process.versions.node, ...input.libraryVersions },
      createdAt: Date.now(),
      parentRunId: input.parentRunId ?? null,
    };
    await this.db.insert(runs).values(row);

    fs.mkdirSync(this.runFolder(id), { recursive: true });
    return this.getRun(id);
  }

  /**
   * Moves a queued or interrupted run to `running`, owned by this process.
   *
   * @param pid The process doing the work (this one by default).
   * @param hostname Its machine (this one by default).
   * @throws RegistryError STATE when the run is running already or finished
   *   (a finished run is read-only); NOT_FOUND for an unknown id.
   */
  async markRunning(
    runId: string,
    pid: number = process.pid,
    hostname: string = os.hostname(),
  ): Promise<RunRecord> {
    const now = Date.now();
    const result = await this.db
      .update(runs)
      .set({
        status: 'running',
        pid,
        hostname,
        heartbeatAt: now,
        startedAt: sql`coalesce(${runs.startedAt}, ${now})`,
        endedAt: null,
        error: null,
      })
      .where(and(eq(runs.id, runId), inArray(runs.status, [...STARTABLE_STATUSES])));

    if (result.rowsAffected === 0) await this.refuse(runId, 'start', STARTABLE_STATUSES);
    return this.getRun(runId);
  }

  /**
   * Records the tfjs backend a running run actually uses (chosen at start-up,
   * so the config may not name it).
   *
   * @throws RegistryError STATE when the run is not running.
   */
  async recordBackend(runId: string, backend: string): Promise<void> {
    const result = await this.db
      .update(runs)
      .set({ backend })
      .where(and(eq(runs.id, runId), eq(runs.status, 'running')));
    if (result.rowsAffected === 0) await this.refuse(runId, 'record the backend of', ['running']);
  }

  /**
   * Records that the running process is alive.
   *
   * @returns Whether a cancel has been requested, so the job can stop.
   * @throws RegistryError STATE when the run is not running.
   */
  async heartbeat(runId: string): Promise<RunSignal> {
    return this.touch(runId, {});
  }

  /**
   * Sets a running run's progress (0..1) and, optionally, its stage; also a
   * heartbeat.
   *
   * @returns Whether a cancel has been requested.
   * @throws RegistryError INVALID for progress outside [0, 1]; STATE when the
   *   run is not running.
   */
  async setProgress(runId: string, progress: number, stage?: string): Promise<RunSignal> {
    if (!Number.isFinite(progress) || progress < 0 || progress > 1) {
      throw new RegistryError(
        'INVALID',
        `progress must be a number from 0 to 1, got ${progress} for run ${runId}`,
      );
    }

    return this.touch(runId, stage === undefined ? { progress } : { progress, stage });
  }

  /**
   * Writes metric points; a point whose (stage, epoch, step, name) the run
   * already has replaces the stored value, so a resumed run that repeats
   * steps never duplicates rows. All points are written or none.
   *
   * @throws RegistryError INVALID for a non-finite value or a malformed point
   *   (nothing is written); STATE when the run is not running.
   */
  async recordMetrics(runId: string, points: MetricPoint[]): Promise<void> {
    const now = Date.now();
    const rows = points.map((p, i) => validateMetric(runId, p, i, now));
    if (rows.length === 0) return;
    await this.requireRunning(runId, 'record metrics for');

    const statements = [];
    for (let start = 0; start < rows.length; start += METRIC_CHUNK) {
      statements.push(
        this.db
          .insert(metrics)
          .values(rows.slice(start, start + METRIC_CHUNK))
          .onConflictDoUpdate({
            target: [metrics.runId, metrics.stage, metrics.epoch, metrics.step, metrics.name],
            set: { value: sql`excluded.value`, at: sql`excluded.at` },
          }),
      );
    }
    await this.db.batch(statements as [(typeof statements)[0], ...typeof statements]);
  }

  /**
   * Records a file in the run's folder. Recording the same path again
   * replaces the entry (a checkpoint rewritten in place).
   *
   * @throws RegistryError INVALID for an absolute path, a path leaving the run
   *   folder, an unknown kind or a missing file; STATE when not running.
   */
  async addArtifact(runId: string, input: ArtifactInput): Promise<ArtifactRecord> {
    const relPath = validateArtifactPath(runId, input);
    await this.requireRunning(runId, 'add an artifact to');
    const { sha256, bytes } = input.sha256 && input.bytes !== undefined
      ? { sha256: input.sha256, bytes: input.bytes }
      : hashFile(path.join(this.runFolder(runId), relPath), runId);

    const row = { runId, kind: input.kind, path: relPath, sha256, bytes, createdAt: Date.now() };
    const [stored] = await this.db
      .insert(artifacts)
      .values(row)
      .onConflictDoUpdate({
        target: [artifacts.runId, artifacts.path],
        set: { kind: row.kind, sha256, bytes, createdAt: row.createdAt },
      })
      .returning();
    return stored;
  }

  /**
   * Records generated or evaluated architectures, all or none.
   *
   * @throws RegistryError INVALID for a malformed entry; STATE when not running.
   */
  async addArchitectures(runId: string, entries: ArchitectureInput[]): Promise<void> {
    const now = Date.now();
    const rows = entries.map((e, i) => validateArchitecture(runId, e, i, now));
    if (rows.length === 0) return;
    await this.requireRunning(runId, 'add architectures to');

    await this.db.insert(architectures).values(rows);
  }

  /**
   * Records one sweep evaluation (Kendall tau-b and Pearson of target vs.
   * generated FLOPs over n targets).
   *
   * @throws RegistryError INVALID for a malformed entry; STATE when not running.
   */
  async addSweep(runId: string, input: SweepInput): Promise<SweepRecord> {
    const row = validateSweep(runId, input);
    await this.requireRunning(runId, 'add a sweep to');

    const [stored] = await this.db.insert(sweeps).values(row).returning();
    return stored;
  }

  /**
   * Ends a queued or running run.
   *
   * @param status completed (progress becomes 1), failed (error required),
   *   cancelled, or interrupted (resumable later).
   * @param error What went wrong; stored with the run.
   * @throws RegistryError INVALID for another status or a failure without an
   *   error; STATE when the run has already ended.
   */
  async finish(runId: string, status: RunStatus, error?: string): Promise<RunRecord> {
    const endings: RunStatus[] = ['completed', 'failed', 'cancelled', 'interrupted'];
    if (!endings.includes(status)) {
      throw new RegistryError(
        'INVALID',
        `cannot finish run ${runId} as '${status}': use one of ${endings.join(', ')}`,
      );
    }
    if (status === 'failed' && !error) {
      throw new RegistryError(
        'INVALID',
        `finishing run ${runId} as failed needs an error message`,
      );
    }

    const result = await this.db
      .update(runs)
      .set({
        status,
        error: error ?? null,
        endedAt: Date.now(),
        cancelRequested: false,
        ...(status === 'completed' ? { progress: 1 } : {}),
      })
      .where(and(eq(runs.id, runId), inArray(runs.status, ['queued', 'running'])));

    if (result.rowsAffected === 0) await this.refuse(runId, 'finish', ['queued', 'running']);
    return this.getRun(runId);
  }

  /**
   * Runs, newest first.
   *
   * @param options Filter by status (one or several), kind or parent; cap the count.
   */
  async listRuns(options: ListRunsOptions = {}): Promise<RunRecord[]> {
    const where: SQL[] = [];
    if (options.status !== undefined) {
      const statuses = Array.isArray(options.status) ? options.status : [options.status];
      where.push(inArray(runs.status, statuses));
    }
    if (options.kind) where.push(eq(runs.kind, options.kind));
    if (options.parentRunId) where.push(eq(runs.parentRunId, options.parentRunId));

    const query = this.db
      .select()
      .from(runs)
      .where(and(...where))
      .orderBy(desc(runs.createdAt), desc(runs.id));
    return options.limit ? query.limit(options.limit) : query;
  }

  /**
   * One run by its exact id.
   *
   * @throws RegistryError NOT_FOUND naming the id.
   */
  async getRun(runId: string): Promise<RunRecord> {
    const [row] = await this.db.select().from(runs).where(eq(runs.id, runId));
    if (!row) {
      throw new RegistryError(
        'NOT_FOUND',
        `no run with id '${runId}' in ${this.dbPath}; \`runs list\` shows the ids`,
      );
    }
    return row;
  }

  /**
   * One run by its id or a unique prefix of at least 4 characters (what a
   * person types after reading `runs list`).
   *
   * @throws RegistryError NOT_FOUND naming the id; AMBIGUOUS listing matches.
   */
  async findRun(idOrPrefix: string): Promise<RunRecord> {
    const [exact] = await this.db.select().from(runs).where(eq(runs.id, idOrPrefix));
    if (exact) return exact;
    if (idOrPrefix.length < 4 || /[%_]/.test(idOrPrefix)) return this.getRun(idOrPrefix);

    const matches = await this.db
      .select()
      .from(runs)
      .where(like(runs.id, `${idOrPrefix}%`))
      .limit(5);
    if (matches.length === 1) return matches[0];
    if (matches.length === 0) return this.getRun(idOrPrefix);
    const listed = matches.map((m) => m.id).join(', ') + (matches.length === 5 ? ', ...' : '');
    throw new RegistryError(
      'AMBIGUOUS',
      `run id prefix '${idOrPrefix}' matches several runs (${listed}); give more characters`,
    );
  }

  /**
   * Marks as `interrupted` every `running` run whose process is gone: on this
   * host, its pid no longer exists; on any host, its last heartbeat is older
   * than staleAfterMs. Call at start-up.
   *
   * @returns The ids that were marked.
   */
  async markDeadRunsInterrupted(staleAfterMs: number = DEFAULT_STALE_AFTER_MS): Promise<string[]> {
    const now = Date.now();
    const host = os.hostname();
    const running = await this.db.select().from(runs).where(eq(runs.status, 'running'));

    const marked: string[] = [];
    for (const run of running) {
      const reason = deathReason(run, host, now, staleAfterMs);
      if (!reason) continue;

      // The pid condition keeps a run that was resumed meanwhile from being hit.
      const result = await this.db
        .update(runs)
        .set({ status: 'interrupted', error: reason, endedAt: now })
        .where(and(eq(runs.id, run.id), eq(runs.status, 'running'), pidIs(run.pid)));
      if (result.rowsAffected > 0) marked.push(run.id);
    }
    return marked;
  }

  /**
   * Asks a run to stop. A running run gets its cancelRequested flag set (its
   * process sees it at the next heartbeat or progress report and finishes as
   * cancelled); a queued or interrupted run, which no process owns, becomes
   * cancelled at once.
   *
   * @returns The run after the change.
   * @throws RegistryError STATE when the run has already ended.
   */
  async requestCancel(runId: string): Promise<RunRecord> {
    const flagged = await this.db
      .update(runs)
      .set({ cancelRequested: true })
      .where(and(eq(runs.id, runId), eq(runs.status, 'running')));
    if (flagged.rowsAffected > 0) return this.getRun(runId);

    const idle: RunStatus[] = ['queued', 'interrupted'];
    const cancelled = await this.db
      .update(runs)
      .set({ status: 'cancelled', endedAt: Date.now(), cancelRequested: false })
      .where(and(eq(runs.id, runId), inArray(runs.status, idle)));
    if (cancelled.rowsAffected === 0) await this.refuse(runId, 'cancel', ['running', ...idle]);
    return this.getRun(runId);
  }

  /** Whether a cancel was requested for the run (without touching its heartbeat). */
  async isCancelRequested(runId: string): Promise<boolean> {
    return (await this.getRun(runId)).cancelRequested;
  }

  /**
   * A run's metric points in the order they were first written.
   *
   * @param query Filter by stage and name; afterId returns only newer rows.
   */
  async getMetrics(runId: string, query: MetricQuery = {}): Promise<MetricRecord[]> {
    const where: SQL[] = [eq(metrics.runId, runId)];
    if (query.stage !== undefined) where.push(eq(metrics.stage, query.stage));
    if (query.name !== undefined) where.push(eq(metrics.name, query.name));
    if (query.afterId !== undefined) where.push(gt(metrics.id, query.afterId));

    return this.db.select().from(metrics).where(and(...where)).orderBy(asc(metrics.id));
  }

  /** A run's artifacts, oldest first. */
  async listArtifacts(runId: string): Promise<ArtifactRecord[]> {
    return this.db
      .select()
      .from(artifacts)
      .where(eq(artifacts.runId, runId))
      .orderBy(asc(artifacts.id));
  }

  /** A run's architectures, in the order they were recorded. */
  async listArchitectures(runId: string): Promise<ArchitectureRecord[]> {
    return this.db
      .select()
      .from(architectures)
      .where(eq(architectures.runId, runId))
      .orderBy(asc(architectures.id));
  }

  /** A run's sweep evaluations, in the order they were recorded. */
  async listSweeps(runId: string): Promise<SweepRecord[]> {
    return this.db.select().from(sweeps).where(eq(sweeps.runId, runId)).orderBy(asc(sweeps.id));
  }

  /** How many metric points, artifacts, architectures and sweeps a run has. */
  async countRows(runId: string): Promise<RunCounts> {
    const countOf = async (table: typeof metrics | typeof artifacts | typeof architectures |
      typeof sweeps): Promise<number> => {
      const [row] = await this.db.select({ n: count() }).from(table).where(eq(table.runId, runId));
      return row.n;
    };

    return {
      metrics: await countOf(metrics),
      artifacts: await countOf(artifacts),
      architectures: await countOf(architectures),
      sweeps: await countOf(sweeps),
    };
  }

  /**
   * Writes a run's records to a folder: run.json (the run row), config.json,
   * metrics.csv, architectures.json, architectures.csv, sweeps.csv and
   * artifacts.csv. Existing files of those names are replaced.
   *
   * @returns The paths written.
   * @throws RegistryError NOT_FOUND before anything is written; INVALID when
   *   dir is an existing file.
   */
  async exportRun(runId: string, dir: string): Promise<string[]> {
    const run = await this.getRun(runId);
    const target = path.resolve(dir);
    if (fs.existsSync(target) && !fs.statSync(target).isDirectory()) {
      throw new RegistryError('INVALID', `export folder ${target} is a file; give a folder path`);
    }
    const files = await this.exportContents(run);

    fs.mkdirSync(target, { recursive: true });
    const written: string[] = [];
    for (const [name, text] of Object.entries(files)) {
      const file = path.join(target, name);
      fs.writeFileSync(file, text);
      written.push(file);
    }
    return written;
  }

  private async exportContents(run: RunRecord): Promise<Record<string, string>> {
    const { config, ...runRow } = run;
    const metricRows = await this.getMetrics(run.id);
    const archRows = await this.listArchitectures(run.id);
    const sweepRows = await this.listSweeps(run.id);
    const artifactRows = await this.listArtifacts(run.id);

    const archJson = archRows.map(({ runId: _runId, ...rest }) => rest);
    return {
      'run.json': `${JSON.stringify(runRow, null, 2)}\n`,
      'config.json': `${JSON.stringify(config, null, 2)}\n`,
      'metrics.csv': toCsv(['stage', 'epoch', 'step', 'name', 'value', 'at'], metricRows),
      'architectures.json': `${JSON.stringify(archJson, null, 2)}\n`,
      'architectures.csv': toCsv(
        ['id', 'budgetM', 'flopsM', 'params', 'accuracy', 'compact'],
        archRows,
      ),
      'sweeps.csv': toCsv(
        ['id', 'tau', 'tauP', 'pearson', 'pearsonP', 'n', 'createdAt'],
        sweepRows,
      ),
      'artifacts.csv': toCsv(['kind', 'path', 'sha256', 'bytes', 'createdAt'], artifactRows),
    };
  }

  private async migrate(migrationsFolder: string): Promise<void> {
    if (!fs.existsSync(path.join(migrationsFolder, 'meta', '_journal.json'))) {
      throw new RegistryError(
        'MIGRATION',
        `no meta/_journal.json in migrations folder ${migrationsFolder}; pass the committed ` +
          'drizzle/ folder as migrationsFolder',
      );
    }

    try {
      await migrate(this.db, { migrationsFolder });
    } catch (first) {
      // Another process may have migrated the same new file a moment earlier;
      // the second attempt then finds the journal up to date and applies nothing.
      try {
        await migrate(this.db, { migrationsFolder });
      } catch {
        throw new RegistryError(
          'MIGRATION',
          `could not bring ${this.dbPath} up to date with ${migrationsFolder}: ` +
            `${(first as Error).message}. Is it a database of another program?`,
          { cause: first },
        );
      }
    }
  }

  private async touch(
    runId: string,
    fields: { progress?: number; stage?: string },
  ): Promise<RunSignal> {
    const [row] = await this.db
      .update(runs)
      .set({ ...fields, heartbeatAt: Date.now() })
      .where(and(eq(runs.id, runId), eq(runs.status, 'running')))
      .returning({ cancelRequested: runs.cancelRequested });

    if (!row) return this.refuse(runId, 'report progress for', ['running']);
    return { cancelRequested: row.cancelRequested };
  }

  private async requireRunning(runId: string, action: string): Promise<void> {
    const run = await this.getRun(runId);
    if (run.status !== 'running') await this.refuse(runId, action, ['running']);
  }

  /** Throws the error that explains why a conditional update matched nothing. */
  private async refuse(runId: string, action: string, allowed: readonly RunStatus[]):
    Promise<never> {
    const run = await this.getRun(runId);
    const owner = run.status === 'running' ? ` (pid ${run.pid} on ${run.hostname})` : '';
    const hint = isTerminal(run.status)
      ? 'a finished run is read-only'
      : `only a run that is ${allowed.join(' or ')} can be changed this way`;
    throw new RegistryError(
      'STATE',
      `cannot ${action} run ${runId}: it is ${run.status}${owner}; ${hint}`,
    );
  }
}

/** Why a `running` run is dead, or null when it may still be alive. */
function deathReason(run: RunRecord, host: string, now: number, staleAfterMs: number):
  string | null {
  if (run.hostname === host && run.pid !== null && !isPidAlive(run.pid)) {
    return `process ${run.pid} on ${host} ended without finishing the run`;
  }

  const lastSign = run.heartbeatAt ?? run.startedAt ?? run.createdAt;
  if (now - lastSign > staleAfterMs) {
    const minutes = ((now - lastSign) / 60_000).toFixed(1);
    return `no heartbeat from process ${run.pid} on ${run.hostname} for ${minutes} min`;
  }
  return null;
}

function pidIs(pid: number | null): SQL {
  return pid === null ? sql`${runs.pid} IS NULL` : eq(runs.pid, pid);
}

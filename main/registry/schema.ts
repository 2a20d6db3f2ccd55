/**
 * The run registry's tables, as drizzle sqlite-core definitions.
 *
 * drizzle-kit reads this file (see drizzle.config.ts) to generate the SQL
 * migrations under drizzle/; change a table here, then run
 * `npx drizzle-kit generate` and commit what it writes.
 *
 * Times are integer milliseconds since the Unix epoch, so rows compare and
 * sort as numbers and cross IPC as plain JSON.
 */
import { sql } from 'drizzle-orm';
import {
  type AnySQLiteColumn,
  check,
  index,
  integer,
  real,
  sqliteTable,
  text,
  uniqueIndex,
} from 'drizzle-orm/sqlite-core';

/** What a run does; one per CLI command or job type that registers a run. */
export const RUN_KINDS = [
  'search',
  'supernet',
  'generator',
  'generate',
  'sweep',
  'baseline-random',
  'baseline-evolution',
  'compare-search',
  'ablation',
  'prior-study',
  'random-subnets',
  'train-scratch',
] as const;

export type RunKind = (typeof RUN_KINDS)[number];

/** Where a run is in its life. */
export const RUN_STATUSES = [
  'queued',
  'running',
  'completed',
  'failed',
  'cancelled',
  'interrupted',
] as const;

export type RunStatus = (typeof RUN_STATUSES)[number];

/** What a stored file is. */
export const ARTIFACT_KINDS = ['checkpoint', 'export', 'results', 'log'] as const;

export type ArtifactKind = (typeof ARTIFACT_KINDS)[number];

export const runs = sqliteTable(
  'runs',
  {
    id: text('id').primaryKey(),
    // Kinds are checked in code, not by a CHECK constraint: adding a kind then
    // needs no table rebuild.
    kind: text('kind', { enum: RUN_KINDS }).notNull(),
    name: text('name').notNull(),
    status: text('status', { enum: RUN_STATUSES }).notNull().default('queued'),
    error: text('error'),
    config: text('config', { mode: 'json' }).$type<unknown>().notNull(),
    seed: integer('seed'),
    backend: text('backend'),
    libraryVersions: text('library_versions', { mode: 'json' })
      .$type<Record<string, string>>()
      .notNull()
      .default(sql`'{}'`),
    createdAt: integer('created_at').notNull(),
    startedAt: integer('started_at'),
    endedAt: integer('ended_at'),
    pid: integer('pid'),
    hostname: text('hostname'),
    heartbeatAt: integer('heartbeat_at'),
    progress: real('progress').notNull().default(0),
    stage: text('stage'),
    cancelRequested: integer('cancel_requested', { mode: 'boolean' }).notNull().default(false),
    parentRunId: text('parent_run_id').references((): AnySQLiteColumn => runs.id, {
      onDelete: 'set null',
    }),
  },
  (t) => [
    index('runs_status_idx').on(t.status),
    index('runs_created_at_idx').on(t.createdAt),
    index('runs_parent_idx').on(t.parentRunId),
    check(
      'runs_status_check',
      sql`${t.status} IN ('queued','running','completed','failed','cancelled','interrupted')`,
    ),
    check('runs_progress_check', sql`${t.progress} >= 0 AND ${t.progress} <= 1`),
  ],
);

export const metrics = sqliteTable(
  'metrics',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    runId: text('run_id')
      .notNull()
      .references(() => runs.id, { onDelete: 'cascade' }),
    stage: text('stage').notNull(),
    epoch: integer('epoch').notNull(),
    step: integer('step').notNull(),
    name: text('name').notNull(),
    value: real('value').notNull(),
    at: integer('at').notNull(),
  },
  (t) => [
    // A resumed run re-sends the steps after its last checkpoint; this key
    // turns those writes into updates instead of duplicate rows.
    uniqueIndex('metrics_point_uq').on(t.runId, t.stage, t.epoch, t.step, t.name),
  ],
);

export const artifacts = sqliteTable(
  'artifacts',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    runId: text('run_id')
      .notNull()
      .references(() => runs.id, { onDelete: 'cascade' }),
    kind: text('kind', { enum: ARTIFACT_KINDS }).notNull(),
    path: text('path').notNull(),
    sha256: text('sha256').notNull(),
    bytes: integer('bytes').notNull(),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [
    uniqueIndex('artifacts_path_uq').on(t.runId, t.path),
    check('artifacts_kind_check', sql`${t.kind} IN ('checkpoint','export','results','log')`),
  ],
);

export const architectures = sqliteTable(
  'architectures',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    runId: text('run_id')
      .notNull()
      .references(() => runs.id, { onDelete: 'cascade' }),
    budgetM: real('budget_m'),
    architecture: text('architecture', { mode: 'json' }).$type<unknown>().notNull(),
    compact: text('compact').notNull(),
    flopsM: real('flops_m').notNull(),
    params: integer('params').notNull(),
    accuracy: real('accuracy'),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [index('architectures_run_idx').on(t.runId)],
);

export const sweeps = sqliteTable(
  'sweeps',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    runId: text('run_id')
      .notNull()
      .references(() => runs.id, { onDelete: 'cascade' }),
    tau: real('tau').notNull(),
    tauP: real('tau_p'),
    pearson: real('pearson').notNull(),
    pearsonP: real('pearson_p'),
    n: integer('n').notNull(),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [index('sweeps_run_idx').on(t.runId)],
);

/**
 * The `runs` sub-commands of the sgnas CLI: list, show, cancel, export and
 * resume runs recorded in the registry.
 *
 * Exit codes: 0 done; 2 bad input (unknown sub-command or option, unknown
 * run id, a database file that is not SQLite, a run in the wrong state), with
 * nothing changed; 1 an unexpected failure, such as a resumed run that failed.
 */
import { UsageError } from './args.js';
import { runExperiment } from '../jobs/experimentJob.js';
import { ExperimentSetupError, isExperimentKind, planExperiment, RESUMABLE_EXPERIMENT_KINDS,
  storedExperiment } from '../jobs/experimentKinds.js';
import { RegistryError } from '../registry/errors.js';
import { resolveDbPath } from '../registry/paths.js';
import { type RunRecord, RunRegistry, STARTABLE_STATUSES } from '../registry/registry.js';

/** Where a command writes; process.stdout/stderr or test buffers. */
export interface RunsIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

/** What the lead injects: the resume callback and, for tests, the environment. */
export interface RunsDeps {
  /** Continues an interrupted or queued search (or stage) run from its last checkpoint. */
  resume?: (run: RunRecord, registry: RunRegistry) => Promise<void>;
  /**
   * Continues an experiment run (an interrupted ablation or prior study, or a
   * queued experiment of any kind); default: runs it in this process.
   */
  resumeExperiment?: (run: RunRecord, registry: RunRegistry, io: RunsIo) => Promise<void>;
  /** Environment for SGNAS_DB / SGNAS_HOME (process.env by default). */
  env?: Record<string, string | undefined>;
  /** The drizzle/ folder, when the default search does not find it. */
  migrationsFolder?: string;
}

export { UsageError };

/** The list entry printed by `runs list --json`. */
export interface RunSummary {
  id: string;
  kind: string;
  name: string;
  status: string;
  progress: number;
  stage: string | null;
  createdAt: number;
}

interface ParsedArgs {
  sub: string;
  positionals: string[];
  json: boolean;
  db?: string;
}

const USAGE = [
  'usage: sgnas runs <command> [--db PATH]',
  '  runs list [--json]          every run, newest first',
  '  runs show ID [--json]       one run, its config and what it recorded',
  '  runs cancel ID              stop a running run after its current step',
  '  runs export ID DIR          write config, metrics CSV and architectures to DIR',
  '  runs resume ID              continue an interrupted run from its last checkpoint',
  '                              (searches, ablations and prior studies)',
  'ID may be a unique prefix of at least 4 characters. The database is --db, else',
  'SGNAS_DB, else registry.db in SGNAS_HOME or the per-user data folder.',
].join('\n');

const ARITY: Record<string, string[]> = {
  list: [],
  show: ['ID'],
  cancel: ['ID'],
  export: ['ID', 'DIR'],
  resume: ['ID'],
};

/**
 * Runs one `runs` sub-command.
 *
 * ```ts
 * const code = await runsCommand(['list', '--json'], process, { resume });
 * ```
 *
 * @param argv The arguments after `runs`, e.g. ['show', 'ab12', '--json'].
 * @param io Where to write results (stdout) and messages (stderr).
 * @param deps The resume callback and environment.
 * @returns The exit code: 0 done, 2 bad input (nothing changed), 1 failure.
 */
export async function runsCommand(
  argv: string[],
  io: RunsIo,
  deps: RunsDeps = {},
): Promise<number> {
  let args: ParsedArgs;
  try {
    args = parseArgs(argv);
  } catch (err) {
    io.stderr.write(`sgnas runs: ${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (args.sub === 'help') {
    io.stdout.write(`${USAGE}\n`);
    return 0;
  }

  let registry: RunRegistry | undefined;
  try {
    const dbPath = resolveDbPath(args.db, deps.env ?? process.env);
    registry = await RunRegistry.open(dbPath, { migrationsFolder: deps.migrationsFolder });
    // Start-up duty: runs whose process died must not be listed as running.
    await registry.markDeadRunsInterrupted();
    return await dispatch(registry, args, io, deps);
  } catch (err) {
    const badInput = err instanceof RegistryError || err instanceof UsageError;
    io.stderr.write(`sgnas runs ${args.sub}: ${(err as Error).message}\n`);
    return badInput ? 2 : 1;
  } finally {
    registry?.close();
  }
}

/**
 * Parses a `--config` value that must be a JSON object, for commands that take
 * one.
 *
 * @throws UsageError quoting the start of the text and the parser's complaint.
 */
export function parseConfigJson(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    const start = text.length > 60 ? `${text.slice(0, 60)}...` : text;
    throw new UsageError(
      `--config is not valid JSON (${(err as Error).message}): '${start}'; ` +
        `pass an object such as '{"seed": 1}'`,
    );
  }

  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new UsageError(
      `--config must be a JSON object, got ${Array.isArray(value) ? 'an array' : String(value)}`,
    );
  }
  return value as Record<string, unknown>;
}

/** The `runs list --json` entry of a run. */
export function summariseRun(run: RunRecord): RunSummary {
  return {
    id: run.id,
    kind: run.kind,
    name: run.name,
    status: run.status,
    progress: run.progress,
    stage: run.stage,
    createdAt: run.createdAt,
  };
}

function parseArgs(argv: string[]): ParsedArgs {
  const positionals: string[] = [];
  let json = false;
  let db: string | undefined;

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--json') json = true;
    else if (arg === '--help' || arg === '-h') positionals.unshift('help');
    else if (arg === '--db' || arg.startsWith('--db=')) {
      db = arg === '--db' ? argv[++i] : arg.slice('--db='.length);
      if (!db) throw new UsageError('--db needs a file path');
    } else if (arg.startsWith('-')) throw new UsageError(`unknown option '${arg}'`);
    else positionals.push(arg);
  }

  const [sub, ...rest] = positionals;
  if (!sub) throw new UsageError('missing command');
  if (sub === 'help') return { sub, positionals: [], json };

  const expected = ARITY[sub];
  if (!expected) {
    throw new UsageError(
      `unknown command '${sub}'; expected one of ${Object.keys(ARITY).join(', ')}`,
    );
  }
  if (rest.length !== expected.length) {
    const form = [sub, ...expected].join(' ');
    throw new UsageError(`'${sub}' takes ${form}, got ${rest.length} argument(s)`);
  }
  return { sub, positionals: rest, json, db };
}

async function dispatch(
  registry: RunRegistry,
  args: ParsedArgs,
  io: RunsIo,
  deps: RunsDeps,
): Promise<number> {
  switch (args.sub) {
    case 'list':
      return listCommand(registry, args.json, io);
    case 'show':
      return showCommand(registry, args.positionals[0], args.json, io);
    case 'cancel':
      return cancelCommand(registry, args.positionals[0], io);
    case 'export':
      return exportCommand(registry, args.positionals[0], args.positionals[1], io);
    case 'resume':
      return resumeCommand(registry, args.positionals[0], io, deps);
    default:
      throw new UsageError(`unknown command '${args.sub}'`);
  }
}

async function listCommand(registry: RunRegistry, json: boolean, io: RunsIo): Promise<number> {
  const all = await registry.listRuns();
  if (json) {
    io.stdout.write(`${JSON.stringify(all.map(summariseRun))}\n`);
    return 0;
  }

  if (all.length === 0) {
    io.stdout.write(`no runs yet in ${registry.dbPath}\n`);
    return 0;
  }
  const header = ['ID', 'KIND', 'STATUS', 'PROGRESS', 'CREATED', 'NAME'];
  const rows = all.map((r) => [
    r.id,
    r.kind,
    r.status,
    `${(r.progress * 100).toFixed(0)}%`,
    new Date(r.createdAt).toISOString().slice(0, 19).replace('T', ' '),
    r.name,
  ]);
  io.stdout.write(formatTable([header, ...rows]));
  return 0;
}

async function showCommand(
  registry: RunRegistry,
  id: string,
  json: boolean,
  io: RunsIo,
): Promise<number> {
  const run = await registry.findRun(id);
  const counts = await registry.countRows(run.id);
  const artifacts = await registry.listArtifacts(run.id);
  const sweeps = await registry.listSweeps(run.id);

  if (json) {
    const detail = { ...run, folder: registry.runFolder(run.id), counts, artifacts, sweeps };
    io.stdout.write(`${JSON.stringify(detail)}\n`);
    return 0;
  }

  const time = (t: number | null) => (t === null ? '-' : new Date(t).toISOString());
  const lines = [
    `run ${run.id}  ${run.kind}  "${run.name}"`,
    `status     ${run.status}${run.error ? `: ${run.error}` : ''}`,
    `progress   ${(run.progress * 100).toFixed(1)}%${run.stage ? ` (stage ${run.stage})` : ''}`,
    `seed       ${run.seed ?? '-'}   backend ${run.backend ?? '-'}`,
    `created    ${time(run.createdAt)}   started ${time(run.startedAt)}   ` +
      `ended ${time(run.endedAt)}`,
    `process    ${run.pid ?? '-'} on ${run.hostname ?? '-'}, heartbeat ${time(run.heartbeatAt)}`,
    `parent     ${run.parentRunId ?? '-'}`,
    `versions   ${JSON.stringify(run.libraryVersions)}`,
    `recorded   ${counts.metrics} metric points, ${counts.architectures} architectures, ` +
      `${counts.sweeps} sweeps, ${counts.artifacts} artifacts`,
    `folder     ${registry.runFolder(run.id)}`,
    'config',
    ...JSON.stringify(run.config, null, 2).split('\n').map((l) => `  ${l}`),
  ];
  for (const s of sweeps) {
    lines.push(`sweep      tau ${s.tau.toFixed(3)}, pearson ${s.pearson.toFixed(3)}, n ${s.n}`);
  }
  io.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

async function cancelCommand(registry: RunRegistry, id: string, io: RunsIo): Promise<number> {
  const run = await registry.findRun(id);
  const after = await registry.requestCancel(run.id);

  if (after.status === 'running') {
    io.stdout.write(
      `cancel requested for run ${after.id} (pid ${after.pid} on ${after.hostname}); ` +
        'it stops after its current step\n',
    );
  } else {
    io.stdout.write(`run ${after.id} cancelled (it was ${run.status})\n`);
  }
  return 0;
}

async function exportCommand(
  registry: RunRegistry,
  id: string,
  dir: string,
  io: RunsIo,
): Promise<number> {
  const run = await registry.findRun(id);
  const files = await registry.exportRun(run.id, dir);

  io.stdout.write(`exported run ${run.id} to ${dir}:\n${files.map((f) => `  ${f}\n`).join('')}`);
  return 0;
}

async function resumeCommand(
  registry: RunRegistry,
  id: string,
  io: RunsIo,
  deps: RunsDeps,
): Promise<number> {
  const run = await registry.findRun(id);
  if (!STARTABLE_STATUSES.includes(run.status)) {
    const why = run.status === 'running'
      ? `it is still running (pid ${run.pid} on ${run.hostname}); cancel it first`
      : `it is ${run.status}, and a finished run is read-only`;
    throw new RegistryError('STATE', `cannot resume run ${run.id}: ${why}`);
  }
  const experiment = isExperimentKind(run.kind);
  if (isExperimentKind(run.kind) && run.status === 'interrupted' &&
    !RESUMABLE_EXPERIMENT_KINDS.includes(run.kind)) {
    throw new RegistryError('STATE', `cannot resume run ${run.id}: a ${run.kind} run cannot ` +
      `resume (it keeps no checkpoints); start it again with the same settings: ` +
      `\`sgnas ${run.kind} ...\` or the GUI's Experiments view`);
  }
  const resume = experiment ? deps.resumeExperiment ?? resumeExperimentHere : deps.resume;
  if (!resume) {
    io.stderr.write('sgnas runs resume: this build has no job runner to resume runs with\n');
    return 1;
  }

  // Every refusal above comes before this line: nothing is announced that is not done.
  io.stdout.write(`resuming run ${run.id} (${run.kind}, ${run.status})\n`);
  await resume(run, registry, io);

  const after = await registry.getRun(run.id);
  io.stdout.write(`run ${after.id} is ${after.status}${after.error ? `: ${after.error}` : ''}\n`);
  // A resume that ends failed or interrupted did not do what was asked.
  return after.status === 'failed' || after.status === 'interrupted' ? 1 : 0;
}

/**
 * Runs an interrupted ablation or prior study (or a queued experiment) in
 * this process from the input stored with it; the ablation and prior study
 * reuse the sub-runs already trained in their folder. Ctrl-C leaves it
 * interrupted again. A failure is recorded on the run, which the caller reports.
 *
 * @throws UsageError when the stored experiment no longer plans (e.g. its
 *   data folder is gone); the run is left as it was.
 */
async function resumeExperimentHere(run: RunRecord, registry: RunRegistry,
  io: RunsIo): Promise<void> {
  let plan: ReturnType<typeof planExperiment>;
  try {
    const { spec, places } = storedExperiment(run.id, run.config);
    plan = planExperiment(spec, places);
  } catch (err) {
    if (err instanceof ExperimentSetupError) throw new UsageError(err.message);
    throw err;
  }

  const controller = new AbortController();
  let interrupted = false;
  const onSigint = () => {
    interrupted = true;
    controller.abort();
  };
  process.once('SIGINT', onSigint);
  try {
    await runExperiment(registry, run.id, plan.body, plan.record, {
      log: (line) => io.stdout.write(`${line}\n`),
      signal: controller.signal,
      interruptedOnAbort: () => interrupted,
    });
  } catch {
    // runExperiment recorded the failure on the run; resumeCommand prints it.
  } finally {
    process.off('SIGINT', onSigint);
  }
}

function formatTable(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows
    .map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]))))
    .map((cells) => cells.join('  '))
    .join('\n')
    .concat('\n');
}

/**
 * Runs one experiment (a baseline, the search-cost comparison, a study,
 * training from scratch) as a run in the registry: registers it under its run
 * kind, marks it running, streams its metrics and progress, turns a cancel
 * request into an abort, and records its architectures and result files and
 * how it ended. The CLI and the job runner's child processes share this path.
 */
import { hostname } from 'node:os';

import type { ExperimentHooks, ExperimentMetric } from '../engine/experiments/hooks.js';
import type {
  ArchitectureInput,
  ArtifactInput,
  NewRun,
  RunRecord,
  RunRegistry,
} from '../registry/index.js';
import { libraryVersions } from './searchJob.js';

/** What an experiment leaves in the registry besides its metrics. */
export interface ExperimentRecord {
  architectures?: ArchitectureInput[];
  /** Files in the run folder, relative to it. */
  artifacts?: ArtifactInput[];
}

/** The run an experiment body works in. */
export interface ExperimentRunContext {
  run: RunRecord;
  runDir: string;
  hooks: ExperimentHooks;
  /**
   * Registers what to record if the run stops part-way (cancelled or
   * interrupted): the work finished so far, e.g. the budgets already searched.
   * The latest registration wins; an empty record keeps nothing.
   */
  keepPartial: (recorder: () => ExperimentRecord) => void;
}

export interface ExperimentJobOptions {
  log?: (line: string) => void;
  /** Ctrl-C and the like; the registry's cancel flag also aborts. */
  signal?: AbortSignal;
  /** Called as soon as the run is registered (to print its id). */
  onRegistered?: (run: RunRecord, runDir: string) => void;
  /** Called once the run is marked running. */
  onStarted?: (run: RunRecord) => void;
  /** Sees every progress report as it happens (the registry gets them batched). */
  onProgress?: (fraction: number, stage: string) => void;
  /** Sees every metric point as it happens. */
  onMetrics?: (points: ExperimentMetric[]) => void;
  /**
   * Asked when the experiment stops on an abort: true records the run as
   * interrupted (the process is shutting down; resume it later) rather than
   * cancelled.
   */
  interruptedOnAbort?: () => boolean;
  /** How often metrics and progress reach the registry. */
  reportEveryMs?: number;
}

/** Registers an experiment run (queued), with the library versions of this process. */
export async function createExperimentRun(
  registry: RunRegistry,
  input: NewRun,
): Promise<RunRecord> {
  return registry.createRun({
    ...input,
    libraryVersions: { ...(await libraryVersions()), ...input.libraryVersions },
  });
}

/**
 * Registers and runs an experiment to its end.
 *
 * @param body does the work in the run's folder with the given hooks.
 * @param record turns the body's result into architectures and artifacts.
 * @returns the body's result and the finished run; undefined result when cancelled.
 * @throws the body's error after recording the run as failed.
 */
export async function executeExperiment<T>(
  registry: RunRegistry,
  input: NewRun,
  body: (ctx: ExperimentRunContext) => Promise<T>,
  record: (result: T, runDir: string) => ExperimentRecord,
  options: ExperimentJobOptions = {},
): Promise<{ result: T | undefined; run: RunRecord }> {
  const created = await createExperimentRun(registry, input);
  options.onRegistered?.(created, registry.runFolder(created.id));
  return runExperiment(registry, created.id, body, record, options);
}

/**
 * Runs an experiment already registered (queued, or interrupted and being
 * resumed) to its end: marks it running, streams its metrics and progress,
 * records its architectures and artifacts and how it ended.
 *
 * @returns the body's result and the finished run; undefined result when
 *   cancelled or interrupted.
 * @throws the body's error after recording the run as failed; RegistryError
 *   STATE when the run is neither queued nor interrupted.
 */
export async function runExperiment<T>(
  registry: RunRegistry,
  runId: string,
  body: (ctx: ExperimentRunContext) => Promise<T>,
  record: (result: T, runDir: string) => ExperimentRecord,
  options: ExperimentJobOptions = {},
): Promise<{ result: T | undefined; run: RunRecord }> {
  const runDir = registry.runFolder(runId);
  const run = await registry.markRunning(runId, process.pid, hostname());
  options.onStarted?.(run);

  const abort = new AbortController();
  options.signal?.addEventListener('abort', () => abort.abort(), { once: true });
  if (options.signal?.aborted) abort.abort();
  const reporter = new Reporter(registry, run.id, abort, options.reportEveryMs ?? 1000);
  const hooks: ExperimentHooks = {
    log: options.log,
    signal: abort.signal,
    onMetrics: (points) => {
      reporter.metrics(points);
      options.onMetrics?.(points);
    },
    onProgress: (fraction, stage) => {
      reporter.progress(fraction, stage);
      options.onProgress?.(fraction, stage);
    },
  };

  let partial: (() => ExperimentRecord) | null = null;
  const keepPartial = (recorder: () => ExperimentRecord) => {
    partial = recorder;
  };

  try {
    const result = await body({ run, runDir, hooks, keepPartial });
    await reporter.stop();
    await keep(registry, run.id, record(result, runDir));
    return { result, run: await registry.finish(run.id, 'completed') };
  } catch (err) {
    await reporter.stop().catch(() => undefined);
    if (abort.signal.aborted) {
      const status = options.interruptedOnAbort?.() ? 'interrupted' : 'cancelled';
      const kept = await keepFinishedPart(registry, run.id, partial, options.log);
      options.log?.(`run ${run.id} ${status}${kept}`);
      return { result: undefined, run: await registry.finish(run.id, status) };
    }
    await registry.finish(run.id, 'failed', (err as Error).message);
    throw err;
  }
}

async function keep(registry: RunRegistry, runId: string, rec: ExperimentRecord) {
  const { architectures = [], artifacts = [] } = rec;
  if (architectures.length > 0) await registry.addArchitectures(runId, architectures);
  for (const artifact of artifacts) await registry.addArtifact(runId, artifact);
}

/**
 * Records the finished part of a stopped run. A failure here is logged, not
 * thrown: the run must still end cancelled or interrupted.
 *
 * @returns a note for the log line: what was kept, or nothing.
 */
async function keepFinishedPart(registry: RunRegistry, runId: string,
  partial: (() => ExperimentRecord) | null, log?: (line: string) => void): Promise<string> {
  if (!partial) return '';

  try {
    const rec = partial();
    await keep(registry, runId, rec);
    const n = rec.architectures?.length ?? 0;
    return n > 0 || (rec.artifacts?.length ?? 0) > 0
      ? `; kept the finished part (${n} architectures, results marked partial)` : '';
  } catch (err) {
    log?.(`run ${runId}: could not record its finished part: ${(err as Error).message}`);
    return '';
  }
}

/** Batches metric points and progress to the registry at most every `everyMs`. */
class Reporter {
  private pending: ExperimentMetric[] = [];
  private last: { fraction: number; stage: string } | null = null;
  private chain: Promise<void> = Promise.resolve();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly registry: RunRegistry,
    private readonly runId: string,
    private readonly abort: AbortController,
    everyMs: number,
  ) {
    this.timer = setInterval(() => this.flush(), Math.max(everyMs, 100));
    this.timer.unref();
  }

  metrics(points: ExperimentMetric[]): void {
    this.pending.push(...points.filter((p) => Number.isFinite(p.value)));
  }

  progress(fraction: number, stage: string): void {
    this.last = { fraction: Math.min(Math.max(fraction, 0), 1), stage };
  }

  private flush(): Promise<void> {
    const points = this.pending;
    this.pending = [];
    const progress = this.last;
    this.chain = this.chain
      .then(() => (points.length ? this.registry.recordMetrics(this.runId, points) : undefined))
      .then(() =>
        progress
          ? this.registry.setProgress(this.runId, progress.fraction, progress.stage)
          : this.registry.heartbeat(this.runId),
      )
      .then((signal) => {
        if (signal?.cancelRequested) this.abort.abort();
      });
    return this.chain;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}

/**
 * Runs registered jobs off the main thread: each run gets a child process
 * (main/jobs/jobWorker.ts), so training never blocks the Electron main process
 * or the local server, and a crash of one run takes nothing else down.
 * Progress, log lines and status changes arrive as events; everything is also
 * in the registry, which stays the source of truth.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { experimentInputSchema, type ExperimentInput } from '../api/contract.js';
import { parseSearchConfig, type SearchConfig } from '../engine/pipeline/config.js';
import { checkSearchConfig, type SearchProgress } from '../engine/pipeline/search.js';
import { RegistryError } from '../registry/errors.js';
import type { RunRecord, RunRegistry, RunStatus } from '../registry/index.js';
import { createExperimentRun } from './experimentJob.js';
import { ExperimentSetupError, isExperimentKind, planExperiment, RESUMABLE_EXPERIMENT_KINDS }
  from './experimentKinds.js';
import type { WorkerMessage } from './jobWorker.js';
import type { JobProgress } from './progress.js';
import { createSearchRun } from './searchJob.js';

/** How to start the worker: a script and the Node options it needs. */
export interface WorkerEntry {
  script: string;
  execArgv: string[];
}

export interface JobRunnerOptions {
  registry: RunRegistry;
  /** Defaults to the bundled jobWorker.js beside this module, else the .ts under tsx. */
  worker?: WorkerEntry;
}

export type { JobProgress };

/** Finds the worker script for this build (bundled JavaScript or TypeScript source). */
export function defaultWorkerEntry(): WorkerEntry {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const bundled = path.join(here, 'jobWorker.js');
  if (existsSync(bundled)) return { script: bundled, execArgv: [] };

  return { script: path.join(here, 'jobWorker.ts'), execArgv: ['--import', 'tsx'] };
}

export class JobRunner extends EventEmitter {
  private readonly registry: RunRegistry;
  private readonly worker: WorkerEntry;
  private readonly children = new Map<string, ChildProcess>();

  constructor(options: JobRunnerOptions) {
    super();
    this.registry = options.registry;
    this.worker = options.worker ?? defaultWorkerEntry();
  }

  /**
   * Validates a configuration, registers the run and starts it.
   *
   * @returns the new run's id.
   * @throws an error naming the invalid setting; nothing is registered then.
   */
  async startSearch(input: SearchConfig): Promise<string> {
    const config = parseSearchConfig(input);
    checkSearchConfig(config);

    const run = await createSearchRun(this.registry, config);
    this.spawn(run.id);
    return run.id;
  }

  /**
   * Validates an experiment, checks its source run, registers the run (its
   * input stored in its configuration) and starts it in a child process.
   *
   * @returns the new run's id.
   * @throws ExperimentInputError naming the invalid fields; ExperimentSetupError
   *   for a search config outside its space or an architecture that does not
   *   parse; RegistryError
   *   NOT_FOUND when the source run does not exist, STATE when it has not
   *   completed; nothing is registered then.
   */
  async startExperiment(input: unknown): Promise<string> {
    const parsed = experimentInputSchema.safeParse(input);
    if (!parsed.success) throw new ExperimentInputError(parsed.error.issues);
    const experiment = parsed.data;
    if (experiment.kind === 'compare-search' && experiment.search) {
      try {
        checkSearchConfig(experiment.search);
      } catch (err) {
        throw new ExperimentSetupError(`search: ${(err as Error).message}`);
      }
    }

    const sourceDir = await this.sourceFolder(experiment);
    const plan = planExperiment(experiment, { sourceDir });
    const run = await createExperimentRun(this.registry, plan.run);
    this.spawn(run.id);
    return run.id;
  }

  /** The folder of an experiment's source run, checked to be a completed trained run. */
  private async sourceFolder(experiment: ExperimentInput): Promise<string | null> {
    const sourceRunId = 'sourceRunId' in experiment ? experiment.sourceRunId : undefined;
    if (sourceRunId === undefined) return null;

    let source: RunRecord;
    try {
      source = await this.registry.getRun(sourceRunId);
    } catch (err) {
      if (err instanceof RegistryError && err.code === 'NOT_FOUND') {
        throw new RegistryError('NOT_FOUND', `${experiment.kind}: source run ${sourceRunId} ` +
          'does not exist; pick a completed search run (listRuns with kind "search")');
      }
      throw err;
    }
    if (source.status !== 'completed') {
      throw new RegistryError('STATE', `${experiment.kind}: source run ${sourceRunId} is ` +
        `${source.status}, not completed; its supernet is trained only when it completes: ` +
        'wait for it, resume it, or pick a completed search run');
    }
    const folder = this.registry.runFolder(sourceRunId);
    if (!existsSync(path.join(folder, 'config.json'))) {
      throw new RegistryError('STATE', `${experiment.kind}: source run ${sourceRunId} ` +
        `(${source.kind}) has no trained run folder (no ${path.join(folder, 'config.json')}); ` +
        'pick a completed search run');
    }
    return folder;
  }

  /**
   * Continues an interrupted (or queued) run: a search from its last
   * checkpoint, an ablation or prior study from its trained sub-runs.
   *
   * @throws RegistryError STATE for a run in another state, or an interrupted
   *   experiment of a kind that cannot resume (start it again instead).
   */
  async resume(runId: string): Promise<void> {
    const run = await this.registry.getRun(runId);
    if (run.status !== 'interrupted' && run.status !== 'queued') {
      throw new RegistryError('STATE',
        `run ${runId} is ${run.status}: only interrupted or queued runs can be resumed`,
      );
    }
    const resumable = run.status === 'queued' || !isExperimentKind(run.kind) ||
      RESUMABLE_EXPERIMENT_KINDS.includes(run.kind);
    if (!resumable) {
      throw new RegistryError('STATE', `run ${runId} was interrupted, and a ${run.kind} run ` +
        `cannot resume (it keeps no checkpoints); start it again with the same settings: ` +
        `\`sgnas ${run.kind} ...\` or the GUI's Experiments view (its input is in the ` +
        `run's config.experiment)`);
    }
    if (this.children.has(runId)) {
      throw new RegistryError('STATE', `run ${runId} is already being run`);
    }
    this.spawn(runId);
  }

  /** Asks a run to stop after its current step; its checkpoints are kept. */
  async cancel(runId: string): Promise<void> {
    const child = this.children.get(runId);
    await this.registry.requestCancel(runId);
    child?.send({ type: 'cancel' });
  }

  /** Runs this runner started that are still going. */
  activeRuns(): string[] {
    return [...this.children.keys()];
  }

  /**
   * Stops every child (they record their runs as interrupted, resumable) and
   * waits for them to exit.
   */
  async shutdown(timeoutMs = 10_000): Promise<void> {
    const exits = [...this.children.values()].map(
      (child) =>
        new Promise<void>((resolve) => {
          const timer = setTimeout(() => {
            child.kill('SIGKILL');
            resolve();
          }, timeoutMs);
          child.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
          child.kill('SIGTERM');
        }),
    );
    await Promise.all(exits);
  }

  private spawn(runId: string): void {
    const child = fork(this.worker.script, [runId, this.registry.dbPath], {
      execArgv: this.worker.execArgv,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    this.children.set(runId, child);

    let ended = false;
    child.on('message', (message: WorkerMessage) => {
      if (message.type === 'started') this.emitStatus(runId, 'running');
      if (message.type === 'progress') this.emit('progress', toJobProgress(runId, message.event));
      if (message.type === 'job-progress') this.emit('progress', { runId, ...message.event });
      if (message.type === 'log') this.emit('log', { runId, line: message.line });
      if (message.type === 'done') {
        ended = true;
        this.emitStatus(runId, message.status, message.error);
      }
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n').filter(Boolean)) {
        this.emit('log', { runId, line });
      }
    });
    child.on('exit', (code, signal) => {
      this.children.delete(runId);
      if (!ended) void this.markLost(runId, code, signal);
    });
  }

  /** A child that died without reporting (killed, crashed) leaves an interrupted run. */
  private async markLost(runId: string, code: number | null, signal: string | null) {
    const run = await this.registry.getRun(runId).catch(() => undefined);
    if (run?.status === 'running' || run?.status === 'queued') {
      await this.registry.finish(runId, 'interrupted').catch(() => undefined);
    }
    const how = signal ? `signal ${signal}` : `exit code ${code}`;
    this.emit('log', { runId, line: `worker process ended (${how}); the run can be resumed` });
    this.emitStatus(runId, 'interrupted');
  }

  private emitStatus(runId: string, status: RunStatus, error?: string): void {
    this.emit('status', { runId, status, error: error ?? null });
  }
}

function toJobProgress(runId: string, e: SearchProgress): JobProgress {
  return {
    runId,
    stage: e.stage,
    epoch: e.epoch,
    epochs: e.epochs,
    step: e.step,
    steps: e.steps,
    loss: e.loss ?? null,
    accuracy: e.accuracy ?? null,
    etaSec: e.runEtaSec !== undefined && Number.isFinite(e.runEtaSec) ? e.runEtaSec : null,
    progress: e.fraction,
  };
}

/** An experiment input that does not match experimentInputSchema. */
export class ExperimentInputError extends Error {
  override name = 'ExperimentInputError';

  /** The problems as "field: message" pairs, the field a dotted path under the input. */
  readonly problems: { path: string; message: string }[];

  constructor(issues: readonly { path: readonly PropertyKey[]; message: string }[]) {
    const problems = issues.map((issue) => ({
      path: issue.path.length > 0 ? issue.path.map(String).join('.') : 'experiment',
      message: issue.message,
    }));
    super(`invalid experiment: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`);
    this.problems = problems;
  }
}

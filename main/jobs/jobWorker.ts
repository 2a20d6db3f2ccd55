/**
 * The child process that runs one registered job for the job runner.
 *
 *   node --import tsx main/jobs/jobWorker.ts RUN_ID DB_PATH
 *
 * The run's kind decides what runs: a search goes through executeSearchRun,
 * one of the paper's experiments through its plan (experimentKinds.ts).
 * Progress, log lines and the end state go to the parent over the IPC
 * channel; everything that matters is also written to the registry, so the
 * parent may die without losing the run. A 'cancel' message cancels the run
 * (status cancelled); SIGTERM stops it as interrupted, resumable later.
 */
import { performance } from 'node:perf_hooks';

import type { SearchProgress } from '../engine/pipeline/search.js';
import { RunRegistry } from '../registry/index.js';
import { runExperiment } from './experimentJob.js';
import { isExperimentKind, planExperiment, storedExperiment } from './experimentKinds.js';
import type { JobProgress } from './progress.js';
import { executeSearchRun } from './searchJob.js';

export type WorkerMessage =
  | { type: 'started' }
  | { type: 'progress'; event: SearchProgress }
  | { type: 'job-progress'; event: Omit<JobProgress, 'runId'> }
  | { type: 'log'; line: string }
  | { type: 'done'; status: 'completed' | 'cancelled' | 'failed' | 'interrupted'; error?: string };

/** Least time between two experiment progress messages, unless the stage changes. */
const PROGRESS_EVERY_MS = 200;

function send(message: WorkerMessage): void {
  process.send?.(message);
}

/** How the run is being stopped, shared by both kinds of job. */
interface StopControl {
  signal: AbortSignal;
  interrupted: () => boolean;
}

async function runSearchJob(registry: RunRegistry, runId: string, stop: StopControl) {
  const summary = await executeSearchRun(registry, runId, {
    signal: stop.signal,
    log: (line) => send({ type: 'log', line }),
    onProgress: (event) => send({ type: 'progress', event }),
    interruptedOnAbort: stop.interrupted,
    onStarted: () => send({ type: 'started' }),
  });
  return summary !== undefined;
}

async function runExperimentJob(registry: RunRegistry, runId: string, stop: StopControl) {
  const run = await registry.getRun(runId);
  let plan;
  try {
    const { spec, places } = storedExperiment(runId, run.config);
    plan = planExperiment(spec, places);
  } catch (err) {
    // Nothing ran, but the run must not stay queued forever.
    await registry.finish(runId, 'failed', (err as Error).message);
    throw err;
  }
  const progress = experimentProgress();

  const { result } = await runExperiment(registry, runId, plan.body, plan.record, {
    signal: stop.signal,
    log: (line) => send({ type: 'log', line }),
    interruptedOnAbort: stop.interrupted,
    onStarted: () => send({ type: 'started' }),
    onMetrics: (points) => progress.metrics(points),
    onProgress: (fraction, stage) => progress.report(fraction, stage),
  });
  return result !== undefined;
}

/**
 * Turns an experiment's (fraction, stage) reports and metric points into
 * JobProgress messages. Experiments have no epoch schedule known up front:
 * epoch and step are those of the latest metric point, epochs and steps 0.
 */
function experimentProgress() {
  const started = performance.now();
  let last = { epoch: 0, step: 0, loss: null as number | null, accuracy: null as number | null };
  let sentAt = 0;
  let sentStage = '';

  return {
    metrics(points: { epoch: number; step: number; name: string; value: number }[]) {
      for (const p of points) {
        last = { ...last, epoch: p.epoch, step: p.step };
        if (p.name === 'loss') last.loss = p.value;
        if (p.name === 'accuracy') last.accuracy = p.value;
      }
    },
    report(fraction: number, stage: string) {
      const now = performance.now();
      if (now - sentAt < PROGRESS_EVERY_MS && stage === sentStage && fraction < 1) return;
      sentAt = now;
      sentStage = stage;

      const elapsedSec = (now - started) / 1000;
      // Too early an estimate swings wildly; wait for 1% of the work.
      const etaSec = fraction >= 0.01 ? (elapsedSec * (1 - fraction)) / fraction : null;
      send({ type: 'job-progress', event: { stage, epoch: last.epoch, epochs: 0,
        step: last.step, steps: 0, loss: last.loss, accuracy: last.accuracy, etaSec,
        progress: Math.min(Math.max(fraction, 0), 1) } });
    },
  };
}

async function runJob(runId: string, dbPath: string): Promise<number> {
  const registry = await RunRegistry.open(dbPath);
  const abort = new AbortController();
  let interrupted = false;

  process.on('message', (message: unknown) => {
    if ((message as { type?: string })?.type === 'cancel') abort.abort(new Error('cancelled'));
  });
  process.once('SIGTERM', () => {
    interrupted = true;
    abort.abort(new Error('interrupted'));
  });

  try {
    const stop = { signal: abort.signal, interrupted: () => interrupted };
    const { kind } = await registry.getRun(runId);
    const completed = isExperimentKind(kind)
      ? await runExperimentJob(registry, runId, stop)
      : await runSearchJob(registry, runId, stop);
    const ended = completed ? 'completed' : interrupted ? 'interrupted' : 'cancelled';
    send({ type: 'done', status: ended });
    return 0;
  } catch (err) {
    send({ type: 'done', status: 'failed', error: (err as Error).message });
    return 1;
  } finally {
    await registry.close();
  }
}

const [runId, dbPath] = process.argv.slice(2);
if (!runId || !dbPath) {
  console.error('usage: jobWorker RUN_ID DB_PATH');
  process.exitCode = 2;
} else {
  process.exitCode = await runJob(runId, dbPath);
  process.disconnect?.();
}

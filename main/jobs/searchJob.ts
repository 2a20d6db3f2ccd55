/**
 * Runs a search recorded in the registry, in this process: marks it running,
 * streams its progress into the registry (metrics, progress, heartbeat),
 * honours cancel requests, and records the results and how it ended. Both the
 * CLI (`sgnas search`, `runs resume`) and the job runner's child processes
 * come through here, so a run behaves the same whoever started it.
 */
import { hostname } from 'node:os';

import { parseSearchConfig, type SearchConfig } from '../engine/pipeline/config.js';
import type { SearchSummary } from '../engine/pipeline/results.js';
import { runSearch, type SearchHooks, type SearchProgress } from '../engine/pipeline/search.js';
import type { MetricPoint, RunRecord, RunRegistry } from '../registry/index.js';
import { MetricsJournal } from './metricsJournal.js';

/** Library versions recorded with every run. */
export async function libraryVersions(): Promise<Record<string, string>> {
  const tf = await import('@tensorflow/tfjs');
  return { tfjs: tf.version.tfjs, node: process.versions.node };
}

/** Registers a new search run (queued) with its full configuration. */
export async function createSearchRun(
  registry: RunRegistry,
  config: SearchConfig,
  name?: string,
): Promise<RunRecord> {
  return registry.createRun({
    kind: 'search',
    name: name ?? `search ${config.preset} seed ${config.seed}`,
    config: config as unknown as Record<string, unknown>,
    seed: config.seed,
    backend: config.backend ?? null,
    libraryVersions: await libraryVersions(),
  });
}

/** Metric points of one progress event. */
function metricPoints(event: SearchProgress): MetricPoint[] {
  const values: Record<string, number | undefined> = {
    loss: event.loss,
    accuracy: event.accuracy,
    ...event.extra,
  };
  return Object.entries(values)
    .filter((entry): entry is [string, number] => Number.isFinite(entry[1]))
    .map(([name, value]) => ({
      stage: event.stage,
      epoch: event.epoch,
      step: event.step,
      name,
      value,
    }));
}

export interface SearchJobHooks {
  onProgress?: (event: SearchProgress) => void;
  log?: (line: string) => void;
  /** How often progress and metrics reach the registry. */
  reportEveryMs?: number;
  /** Cancels the run from outside (e.g. Ctrl-C); the registry's cancel flag also works. */
  signal?: AbortSignal;
  /**
   * Asked when the run stops on an abort: true records it as interrupted
   * (resumable: the process is shutting down) rather than cancelled.
   */
  interruptedOnAbort?: () => boolean;
  /** Called once the run is marked running in the registry. */
  onStarted?: () => void;
}

/**
 * Runs (or resumes) the search of a queued or interrupted run to its end.
 *
 * @returns the summary when the run completed; undefined when it was cancelled.
 * @throws the search's error after recording the run as failed.
 */
export async function executeSearchRun(
  registry: RunRegistry,
  runId: string,
  hooks: SearchJobHooks = {},
): Promise<SearchSummary | undefined> {
  const config = parseSearchConfig((await registry.getRun(runId)).config);
  await registry.markRunning(runId, process.pid, hostname());
  hooks.onStarted?.();
  const runDir = registry.runFolder(runId);
  const journal = new MetricsJournal(registry, runId, runDir);
  const replayed = await journal.replay();
  if (replayed) hooks.log?.(`replayed ${replayed} journalled metric points into the registry`);

  const abort = new AbortController();
  hooks.signal?.addEventListener('abort', () => abort.abort(hooks.signal?.reason), { once: true });
  const reporter = progressReporter(registry, runId, journal, abort, hooks.reportEveryMs ?? 1000);
  const searchHooks: SearchHooks = {
    signal: abort.signal,
    log: hooks.log,
    onBackend: (backend) => registry.recordBackend(runId, backend.name),
    onProgress: (event) => {
      journal.record(metricPoints(event));
      reporter.report(event);
      hooks.onProgress?.(event);
    },
  };

  try {
    const summary = await runSearch(config, runDir, searchHooks);
    await reporter.stop();
    await journal.flush();
    await recordResults(registry, runId, summary);
    await registry.finish(runId, 'completed');
    return summary;
  } catch (err) {
    await reporter.stop();
    await journal.flush().catch(() => undefined);
    if (abort.signal.aborted) {
      const status = hooks.interruptedOnAbort?.() ? 'interrupted' : 'cancelled';
      await registry.finish(runId, status);
      hooks.log?.(`run ${runId} ${status}; its checkpoints are kept`);
      return undefined;
    }
    await registry.finish(runId, 'failed', (err as Error).message);
    throw err;
  }
}

/**
 * Sends progress to the registry at most every `everyMs`, and turns a cancel
 * request seen in the registry into an abort of the running search.
 */
function progressReporter(
  registry: RunRegistry,
  runId: string,
  journal: MetricsJournal,
  abort: AbortController,
  everyMs: number,
) {
  let last: SearchProgress | undefined;
  let inFlight: Promise<void> = Promise.resolve();
  let lastSent = 0;

  const send = () => {
    const event = last;
    if (!event) return;
    lastSent = Date.now();
    inFlight = inFlight
      .then(() => journal.flush())
      .then(() => registry.setProgress(runId, Math.min(event.fraction, 1), event.stage))
      .then((signal) => {
        if (signal.cancelRequested) abort.abort(new Error('cancel requested'));
      })
      .catch(() => undefined);
  };

  const heartbeat = setInterval(send, Math.max(everyMs, 250));
  heartbeat.unref();

  return {
    report(event: SearchProgress) {
      last = event;
      if (Date.now() - lastSent >= everyMs) send();
    },
    async stop() {
      clearInterval(heartbeat);
      await inFlight;
    },
  };
}

async function recordResults(
  registry: RunRegistry,
  runId: string,
  summary: SearchSummary,
): Promise<void> {
  const already = await registry.listArchitectures(runId);
  if (already.length === 0) {
    await registry.addArchitectures(
      runId,
      summary.architectures.map((a) => ({
        budgetM: a.targetM,
        architecture: { layers: a.layers },
        compact: a.text,
        flopsM: a.flopsM,
        params: a.params,
        accuracy: a.accuracy,
      })),
    );
  }

  if (summary.tau !== null && summary.pearson !== null) {
    await registry.addSweep(runId, {
      tau: summary.tau,
      tauP: summary.tauP,
      pearson: summary.pearson,
      pearsonP: summary.pearsonP,
      n: summary.n,
    });
  }

  for (const file of ['results/summary.json', 'results/architectures.csv', 'results/sweep.json']) {
    await registry.addArtifact(runId, { kind: 'results', path: file });
  }
}

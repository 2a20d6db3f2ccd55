/**
 * The child process that runs one registered job for the job runner.
 *
 *   node --import tsx main/jobs/jobWorker.ts RUN_ID DB_PATH
 *
 * Progress, log lines and the end state go to the parent over the IPC
 * channel; everything that matters is also written to the registry, so the
 * parent may die without losing the run. A 'cancel' message cancels the run
 * (status cancelled); SIGTERM stops it as interrupted, resumable later.
 */
import { executeSearchRun } from './searchJob.js';
import { RunRegistry } from '../registry/index.js';
import type { SearchProgress } from '../engine/pipeline/search.js';

export type WorkerMessage =
  | { type: 'started' }
  | { type: 'progress'; event: SearchProgress }
  | { type: 'log'; line: string }
  | { type: 'done'; status: 'completed' | 'cancelled' | 'failed' | 'interrupted'; error?: string };

function send(message: WorkerMessage): void {
  process.send?.(message);
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
    const summary = await executeSearchRun(registry, runId, {
      signal: abort.signal,
      log: (line) => send({ type: 'log', line }),
      onProgress: (event) => send({ type: 'progress', event }),
      interruptedOnAbort: () => interrupted,
      onStarted: () => send({ type: 'started' }),
    });
    const ended = summary ? 'completed' : interrupted ? 'interrupted' : 'cancelled';
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

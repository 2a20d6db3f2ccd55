import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

import type { MetricPoint, RunRegistry } from '../registry/index.js';

/**
 * Metric points are appended to a journal file in the run folder the moment a
 * step reports them (synchronously, before the trainer can go on to write its
 * checkpoint), and reach the registry in batches. A process killed between the
 * two loses nothing: the next start replays the journal, and the registry's
 * upsert on (stage, epoch, step, name) turns repeats into no-ops.
 */
export class MetricsJournal {
  private pending: MetricPoint[] = [];
  private flushing: Promise<void> = Promise.resolve();
  readonly file: string;

  constructor(
    private readonly registry: RunRegistry,
    private readonly runId: string,
    runDir: string,
  ) {
    this.file = path.join(runDir, 'metrics.jsonl');
  }

  /** Journals the points now and queues them for the registry. */
  record(points: MetricPoint[]): void {
    if (points.length === 0) return;
    const at = Date.now();
    const stamped = points.map((p) => ({ ...p, at: p.at ?? at }));
    appendFileSync(this.file, stamped.map((p) => JSON.stringify(p)).join('\n') + '\n');
    this.pending.push(...stamped);
  }

  /** Writes what is queued to the registry; calls are serialised. */
  flush(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    this.flushing = this.flushing.then(() =>
      batch.length ? this.registry.recordMetrics(this.runId, batch) : undefined,
    );
    return this.flushing;
  }

  /**
   * Sends every journalled point to the registry again (after a crash).
   * A last line cut short by the kill is skipped.
   */
  async replay(): Promise<number> {
    if (!existsSync(this.file)) return 0;

    const points: MetricPoint[] = [];
    for (const line of readFileSync(this.file, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      try {
        points.push(JSON.parse(line) as MetricPoint);
      } catch {
        continue;
      }
    }
    await this.registry.recordMetrics(this.runId, points);
    return points.length;
  }
}

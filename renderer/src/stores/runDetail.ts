/**
 * One run in detail: its record, metrics (fetched incrementally while it
 * runs), log, architectures and sweeps, each with its own call state.
 */
import { defineStore } from 'pinia';
import { computed, ref } from 'vue';

import type {
  ArchitectureRecord,
  MetricPoint,
  ProgressEvent,
  RunDetail,
  SweepRecord,
  WorkbenchEvent,
} from '../../../main/api/contract';
import { useApi } from '../api/client';
import { buildCurves } from '../charts/curves';
import { callState, track } from './callState';

/**
 * A progress event as one line: "generator epoch 2/10, step 5/20". A count
 * the stage does not have (a search of one budget after another reports 0
 * epochs and 0 steps) is left out rather than shown as "0/0": then the step
 * alone, or just the stage.
 */
export function progressText(p: ProgressEvent): string {
  const parts: string[] = [];
  if (p.epochs > 0) parts.push(`epoch ${p.epoch}/${p.epochs}`);
  if (p.steps > 0) parts.push(`step ${p.step}/${p.steps}`);
  else if (p.step > 0) parts.push(`step ${p.step}`);
  return parts.length > 0 ? `${p.stage} ${parts.join(', ')}` : p.stage;
}

/** Metrics are re-fetched at most this often while progress events arrive. */
const METRIC_REFRESH_MS = 1000;

export const useRunDetailStore = defineStore('runDetail', () => {
  const runId = ref<string | null>(null);
  const run = callState<RunDetail>();
  const metrics = callState<MetricPoint[]>([]);
  const log = callState<string[]>([]);
  const architectures = callState<ArchitectureRecord[]>([]);
  const sweeps = callState<SweepRecord[]>([]);
  const progress = ref<ProgressEvent | null>(null);
  let refreshTimer: ReturnType<typeof setTimeout> | null = null;

  const curves = computed(() => buildCurves(metrics.data ?? []));

  /** Opens a run: loads everything about it at once. */
  async function open(id: string) {
    runId.value = id;
    progress.value = null;
    metrics.data = [];
    log.data = [];
    await Promise.all([
      track(run, () => useApi().call('getRun', { runId: id })),
      track(metrics, () => useApi().call('runMetrics', { runId: id })),
      track(log, () => useApi().call('runLog', { runId: id })),
      track(architectures, () => useApi().call('runArchitectures', { runId: id })),
      track(sweeps, () => useApi().call('runSweeps', { runId: id })),
    ]);
  }

  /** Fetches only the metric rows newer than the last one held. */
  async function refreshMetrics() {
    const id = runId.value;
    if (!id) return;
    const held = metrics.data ?? [];
    const afterId = held.length > 0 ? held[held.length - 1].id : undefined;
    const fresh = await useApi()
      .call('runMetrics', { runId: id, afterId })
      .catch((err: Error) => {
        metrics.error = err.message;
        return null;
      });
    if (fresh && runId.value === id) metrics.data = [...held, ...fresh];
  }

  function scheduleMetricRefresh() {
    if (refreshTimer) return;
    refreshTimer = setTimeout(() => {
      refreshTimer = null;
      void refreshMetrics();
    }, METRIC_REFRESH_MS);
  }

  /** Applies a pushed event if it concerns the open run. */
  function applyEvent(event: WorkbenchEvent) {
    if (!runId.value || event.event.runId !== runId.value) return;

    if (event.type === 'progress') {
      progress.value = event.event;
      scheduleMetricRefresh();
      // Progress proves the worker started; the "running" status event may
      // have come before this page knew the run (it is sent at launch).
      if (run.data?.status === 'queued' && !run.loading) {
        const id = runId.value;
        void track(run, () => useApi().call('getRun', { runId: id }));
      }
    } else if (event.type === 'log') {
      log.data = [...(log.data ?? []), event.event.line].slice(-500);
    } else {
      const id = runId.value;
      void track(run, () => useApi().call('getRun', { runId: id }));
      void refreshMetrics();
      void track(architectures, () => useApi().call('runArchitectures', { runId: id }));
      void track(sweeps, () => useApi().call('runSweeps', { runId: id }));
    }
  }

  return {
    runId,
    run,
    metrics,
    log,
    architectures,
    sweeps,
    progress,
    curves,
    open,
    refreshMetrics,
    applyEvent,
  };
});

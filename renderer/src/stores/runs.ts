/**
 * The Runs table: every run, live progress from pushed events, sorting and
 * filtering, and cancel/resume with their own call states.
 */
import { defineStore } from 'pinia';
import { computed, reactive, ref } from 'vue';

import type { ProgressEvent, RunSummary, WorkbenchEvent } from '../../../main/api/contract';
import { useApi } from '../api/client';
import { callState, track, type CallState } from './callState';

export type RunSortKey =
  | 'name'
  | 'kind'
  | 'status'
  | 'progress'
  | 'tau'
  | 'bestAccuracy'
  | 'backend'
  | 'createdAt';

/** Compares two values for sorting; missing values sort last either way. */
function compareValues(a: unknown, b: unknown, dir: 1 | -1): number {
  const missingA = a === null || a === undefined;
  const missingB = b === null || b === undefined;
  if (missingA || missingB) return missingA === missingB ? 0 : missingA ? 1 : -1;
  if (typeof a === 'number' && typeof b === 'number') return (a - b) * dir;
  return String(a).localeCompare(String(b)) * dir;
}

export const useRunsStore = defineStore('runs', () => {
  const list: CallState<RunSummary[]> = callState<RunSummary[]>([]);
  const actions = reactive<Record<string, CallState<{ runId: string }>>>({});
  /** Which action each run's call state last tracked, so its refusal is worded right. */
  const lastAction = reactive<Record<string, 'cancel' | 'resume'>>({});
  const live = reactive<Record<string, ProgressEvent>>({});
  const filterText = ref('');
  const statusFilter = ref('');
  const kindFilter = ref('');
  const sortKey = ref<RunSortKey>('createdAt');
  const sortDir = ref<1 | -1>(-1);

  /** Runs with live progress merged in, filtered and sorted for the table. */
  const rows = computed<RunSummary[]>(() => {
    const text = filterText.value.trim().toLowerCase();
    // Live progress only for active runs: once a run ends, its record is final
    // (its last progress event may predate the last stage).
    const merged = (list.data ?? []).map((run) => {
      const progress = live[run.id];
      const active = run.status === 'running' || run.status === 'queued';
      return progress && active
        ? { ...run, progress: progress.progress, stage: progress.stage }
        : run;
    });

    return merged
      .filter((r) => !statusFilter.value || r.status === statusFilter.value)
      .filter((r) => !kindFilter.value || r.kind === kindFilter.value)
      .filter(
        (r) =>
          !text ||
          [r.id, r.name, r.kind, r.status, r.preset ?? '', r.backend ?? '']
            .join(' ')
            .toLowerCase()
            .includes(text),
      )
      .sort((a, b) => compareValues(a[sortKey.value], b[sortKey.value], sortDir.value));
  });

  const kinds = computed(() => [...new Set((list.data ?? []).map((r) => r.kind))].sort());

  async function load() {
    await track(list, () => useApi().call('listRuns', {}));
  }

  /** Clicking the same column flips the direction; a new column sorts descending. */
  function sortBy(key: RunSortKey) {
    if (sortKey.value === key) sortDir.value = sortDir.value === 1 ? -1 : 1;
    else {
      sortKey.value = key;
      sortDir.value = -1;
    }
  }

  function actionState(runId: string): CallState<{ runId: string }> {
    if (!actions[runId]) actions[runId] = callState<{ runId: string }>();
    return actions[runId];
  }

  async function cancel(runId: string) {
    lastAction[runId] = 'cancel';
    await track(actionState(runId), () => useApi().call('cancelRun', { runId }));
    await load();
  }

  async function resume(runId: string) {
    lastAction[runId] = 'resume';
    await track(actionState(runId), () => useApi().call('resumeRun', { runId }));
    await load();
  }

  /** Applies a pushed event: progress updates in place, a status change reloads. */
  function applyEvent(event: WorkbenchEvent) {
    if (event.type === 'progress') {
      live[event.event.runId] = event.event;
      const run = (list.data ?? []).find((r) => r.id === event.event.runId);
      // Unknown, or still "queued" although progress proves it started: re-read.
      if ((!run || run.status === 'queued') && !list.loading) void load();
    } else if (event.type === 'status') {
      const run = (list.data ?? []).find((r) => r.id === event.event.runId);
      if (run) run.status = event.event.status;
      void load();
    }
  }

  return {
    list,
    actions,
    lastAction,
    live,
    filterText,
    statusFilter,
    kindFilter,
    sortKey,
    sortDir,
    rows,
    kinds,
    load,
    sortBy,
    actionState,
    cancel,
    resume,
    applyEvent,
  };
});

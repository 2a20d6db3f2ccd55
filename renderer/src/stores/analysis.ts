/**
 * Cross-run analysis: the sweeps of chosen runs (Kendall-tau plot) and the
 * architectures of all runs grouped by FS/SBN (Ablations).
 */
import { defineStore } from 'pinia';
import { computed, reactive, ref } from 'vue';

import type { ArchitectureRecord, RunSummary, SweepRecord } from '../../../main/api/contract';
import { useApi } from '../api/client';
import { groupAblations } from '../charts/ablation';
import type { TauSweep } from '../charts/tau';
import { callState, track, type CallState } from './callState';

/** A run's label in legends: name plus its FS/SBN settings. */
export function runLabel(
  run: Pick<RunSummary, 'name' | 'id' | 'forcedSampling' | 'shadowBatchNorm'>,
): string {
  const flag = (v: boolean | null) => (v === null ? '?' : v ? 'on' : 'off');
  const settings = `FS ${flag(run.forcedSampling)}, SBN ${flag(run.shadowBatchNorm)}`;
  return `${run.name || run.id} (${settings})`;
}

/** The latest sweep of each run as tau-plot input. */
export function toTauSweeps(
  runs: readonly RunSummary[],
  sweepsByRun: Readonly<Record<string, readonly SweepRecord[]>>,
): TauSweep[] {
  return runs.flatMap((run) => {
    const sweeps = sweepsByRun[run.id] ?? [];
    const last = sweeps[sweeps.length - 1];
    if (!last) return [];
    return [
      {
        label: runLabel(run),
        points: last.points,
        tau: last.tau,
        pearson: last.pearson,
        n: last.n,
        pValue: last.tauP,
      },
    ];
  });
}

export const useAnalysisStore = defineStore('analysis', () => {
  const tauRunIds = ref<string[]>([]);
  const sweeps = reactive<Record<string, CallState<SweepRecord[]>>>({});
  const architectures = reactive<Record<string, CallState<ArchitectureRecord[]>>>({});

  async function loadSweeps(runId: string) {
    sweeps[runId] ??= callState<SweepRecord[]>([]);
    await track(sweeps[runId], () => useApi().call('runSweeps', { runId }));
  }

  async function loadArchitectures(runId: string) {
    architectures[runId] ??= callState<ArchitectureRecord[]>([]);
    await track(architectures[runId], () => useApi().call('runArchitectures', { runId }));
  }

  /** Toggles a run in the tau plot, loading its sweeps the first time. */
  async function toggleTauRun(runId: string) {
    if (tauRunIds.value.includes(runId)) {
      tauRunIds.value = tauRunIds.value.filter((id) => id !== runId);
      return;
    }
    tauRunIds.value = [...tauRunIds.value, runId];
    if (!sweeps[runId]?.data?.length) await loadSweeps(runId);
  }

  function tauSweeps(runs: readonly RunSummary[]): TauSweep[] {
    const chosen = tauRunIds.value
      .map((id) => runs.find((r) => r.id === id))
      .filter((r): r is RunSummary => r !== undefined);
    const byRun = Object.fromEntries(chosen.map((r) => [r.id, sweeps[r.id]?.data ?? []]));
    return toTauSweeps(chosen, byRun);
  }

  /** Loads the architectures of every run (for the Ablations view). */
  async function loadAllArchitectures(runs: readonly RunSummary[]) {
    await Promise.all(runs.map((r) => loadArchitectures(r.id)));
  }

  const archsByRun = computed(() =>
    Object.fromEntries(Object.entries(architectures).map(([id, s]) => [id, s.data ?? []])),
  );

  function ablationGroups(runs: readonly RunSummary[]) {
    return groupAblations(runs, archsByRun.value);
  }

  return {
    tauRunIds,
    sweeps,
    architectures,
    loadSweeps,
    loadArchitectures,
    toggleTauRun,
    tauSweeps,
    loadAllArchitectures,
    ablationGroups,
  };
});

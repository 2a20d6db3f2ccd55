/**
 * The Generate demo: pick a trained generator, move the budget slider and get
 * the architecture for that budget at once; or a whole sweep in one click.
 */
import { defineStore } from 'pinia';
import { computed, ref } from 'vue';

import type { GeneratedItem, GeneratorInfo } from '../../../main/api/contract';
import { useApi } from '../api/client';
import { kendallPValue, kendallTauB, pearson } from '../charts/stats';
import type { TauSweep } from '../charts/tau';
import { callState, track } from './callState';

/** Evenly spaced budgets over [lowM, highM], both ends included. */
export function sweepBudgets(lowM: number, highM: number, count: number): number[] {
  if (count < 2) return [(lowM + highM) / 2];
  return Array.from({ length: count }, (_, i) => lowM + ((highM - lowM) * i) / (count - 1));
}

export const useGenerateStore = defineStore('generate', () => {
  const generators = callState<GeneratorInfo[]>([]);
  const selectedId = ref<string | null>(null);
  const budgetM = ref<number>(0);
  const single = callState<GeneratedItem[]>([]);
  const sweep = callState<GeneratedItem[]>([]);
  const sweepCount = ref(20);
  let serial = 0;

  const selected = computed(
    () => (generators.data ?? []).find((g) => g.id === selectedId.value) ?? null,
  );

  /** The sweep as a tau plot input, with statistics computed here. */
  const sweepPlot = computed<TauSweep | null>(() => {
    const items = sweep.data ?? [];
    if (items.length < 2 || !selected.value) return null;
    const x = items.map((i) => i.budgetM);
    const y = items.map((i) => i.flopsM);
    const tau = kendallTauB(x, y);
    return {
      label: selected.value.label,
      points: items.map((i) => ({ targetM: i.budgetM, flopsM: i.flopsM })),
      tau,
      pearson: pearson(x, y),
      n: items.length,
      pValue: kendallPValue(tau, items.length),
    };
  });

  async function load() {
    const list = await track(generators, () => useApi().call('listGenerators', {}));
    if (list && list.length > 0 && !selectedId.value) choose(list[0].id);
  }

  /** Selects a generator and centres the slider in its constraint interval. */
  function choose(id: string) {
    selectedId.value = id;
    const g = (generators.data ?? []).find((x) => x.id === id);
    if (g) budgetM.value = (g.constraint.lowM + g.constraint.highM) / 2;
    single.data = [];
    sweep.data = [];
  }

  /** Generates for the slider's budget; a slower earlier answer never overwrites a newer one. */
  async function generateAt(value: number = budgetM.value) {
    if (!selectedId.value) return;
    budgetM.value = value;
    const id = selectedId.value;
    const mine = ++serial;
    single.loading = true;
    try {
      const items = await useApi().call('generate', { generatorId: id, budgetsM: [value] });
      if (mine === serial) {
        single.data = items;
        single.error = null;
      }
    } catch (err) {
      if (mine === serial) single.error = (err as Error).message;
    } finally {
      if (mine === serial) single.loading = false;
    }
  }

  async function generateSweep() {
    const g = selected.value;
    if (!g) return;
    const budgetsM = sweepBudgets(g.constraint.lowM, g.constraint.highM, sweepCount.value);
    await track(sweep, () => useApi().call('generate', { generatorId: g.id, budgetsM }));
  }

  return {
    generators,
    selectedId,
    selected,
    budgetM,
    single,
    sweep,
    sweepCount,
    sweepPlot,
    load,
    choose,
    generateAt,
    generateSweep,
  };
});

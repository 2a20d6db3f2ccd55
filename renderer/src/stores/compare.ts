/**
 * Architectures picked for the Compare (and Architecture) views, from any
 * run or typed in, each resolved by the service into per-layer costs.
 */
import { defineStore } from 'pinia';
import { computed, reactive, ref } from 'vue';

import type { ArchitectureDetail } from '../../../main/api/contract';
import { useApi } from '../api/client';
import { differingLayers } from '../charts/architecture';
import { callState, track, type CallState } from './callState';

/** One architecture on the compare board. */
export interface CompareItem {
  key: string;
  label: string;
  preset: string;
  text: string;
  accuracy: number | null;
}

export const useCompareStore = defineStore('compare', () => {
  const items = ref<CompareItem[]>([]);
  const details = reactive<Record<string, CallState<ArchitectureDetail>>>({});
  let serial = 0;

  /** Layers where the resolved architectures disagree. */
  const differing = computed(() => {
    const compacts = items.value
      .map((i) => details[i.key]?.data?.compact)
      .filter((c): c is string => typeof c === 'string');
    return compacts.length >= 2 ? differingLayers(compacts) : new Set<number>();
  });

  /** Adds an architecture and resolves it; returns its key. */
  async function add(entry: Omit<CompareItem, 'key'>): Promise<string> {
    const key = `a${++serial}`;
    items.value.push({ ...entry, key });
    details[key] = callState<ArchitectureDetail>();
    await track(details[key], () =>
      useApi().call('describeArchitecture', { preset: entry.preset, text: entry.text }),
    );
    return key;
  }

  function remove(key: string) {
    items.value = items.value.filter((i) => i.key !== key);
    delete details[key];
  }

  function clear() {
    for (const item of items.value) delete details[item.key];
    items.value = [];
  }

  return { items, details, differing, add, remove, clear };
});

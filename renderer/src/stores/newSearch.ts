/**
 * The New search form: a draft SearchConfig, checked on every change by the
 * same zod schema the main process uses (instant) and by the service against
 * the search space (debounced), so invalid settings are explained before
 * launch.
 */
import { defineStore } from 'pinia';
import { computed, ref, watch } from 'vue';

import type {
  ArchitectureRecord,
  ConfigCheck,
  ConfigProblem,
  PresetInfo,
  PriorPoolEntry,
} from '../../../main/api/contract';
import { searchConfigSchema, type SearchConfig } from '../../../main/engine/pipeline/config';
import { useApi } from '../api/client';
import { callState, track } from './callState';

/** How long the form waits after the last edit before asking the service. */
const CHECK_DELAY_MS = 250;

/** The schema's problems with a draft, with dotted paths. */
export function schemaProblems(draft: unknown): ConfigProblem[] {
  const parsed = searchConfigSchema.safeParse(draft);
  if (parsed.success) return [];
  return parsed.error.issues.map((issue) => ({
    path: issue.path.length > 0 ? issue.path.map(String).join('.') : 'config',
    message: issue.message,
  }));
}

/** A deep copy of plain JSON data (the draft must not alias a preset default). */
function copy<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

export const useNewSearchStore = defineStore('newSearch', () => {
  const presets = callState<PresetInfo[]>([]);
  const draft = ref<SearchConfig | null>(null);
  const serverCheck = callState<ConfigCheck>();
  const pool = callState<PriorPoolEntry[]>([]);
  const earlierArchitectures = callState<ArchitectureRecord[]>([]);
  const launch = callState<{ runId: string }>();
  let checkTimer: ReturnType<typeof setTimeout> | null = null;
  let checkSerial = 0;

  const localProblems = computed(() => (draft.value ? schemaProblems(draft.value) : []));

  /** Schema problems first; the service's only once the schema is satisfied. */
  const problems = computed<ConfigProblem[]>(() => {
    if (localProblems.value.length > 0) return localProblems.value;
    return serverCheck.data?.problems ?? [];
  });

  const problemsByPath = computed(() => {
    const byPath: Record<string, string[]> = {};
    for (const p of problems.value) (byPath[p.path] ??= []).push(p.message);
    return byPath;
  });

  const canLaunch = computed(
    () =>
      draft.value !== null &&
      problems.value.length === 0 &&
      serverCheck.data?.ok === true &&
      !serverCheck.loading &&
      !launch.loading,
  );

  const presetInfo = computed(() =>
    (presets.data ?? []).find((p) => p.name === draft.value?.preset) ?? null,
  );

  async function loadPresets() {
    const list = await track(presets, () => useApi().call('listPresets', {}));
    if (list && !draft.value) {
      const start = list.find((p) => p.name === 'fmnist') ?? list[0];
      if (start) draft.value = copy(start.defaultConfig);
    }
  }

  /** Switches preset: the draft restarts from that preset's defaults. */
  function choosePreset(name: string) {
    const info = (presets.data ?? []).find((p) => p.name === name);
    if (info) draft.value = copy(info.defaultConfig);
  }

  async function checkNow() {
    const serial = ++checkSerial;
    if (!draft.value || localProblems.value.length > 0) {
      // Nothing to ask the service until the schema is satisfied; an answer
      // still on its way describes an older draft (the serial drops it).
      serverCheck.loading = false;
      return;
    }
    const config = copy(draft.value);
    const result = await useApi()
      .call('checkSearchConfig', { config })
      .then((data) => ({ data, error: null }))
      .catch((err: Error) => ({ data: null, error: err.message }));
    // Only the latest check may land: an older answer describes an older draft.
    if (serial !== checkSerial) return;
    serverCheck.data = result.data;
    serverCheck.error = result.error;
    serverCheck.loading = false;
  }

  watch(
    draft,
    () => {
      serverCheck.loading = true;
      if (checkTimer) clearTimeout(checkTimer);
      checkTimer = setTimeout(() => void checkNow(), CHECK_DELAY_MS);
    },
    { deep: true },
  );

  async function loadPool() {
    const d = draft.value;
    if (!d || d.prior.kind !== 'pool') return;
    const payload = {
      preset: d.preset,
      seed: d.prior.seed,
      size: d.prior.size,
      forcedSampling: d.forcedSampling,
      minExpansion: d.minExpansion,
    };
    await track(pool, () => useApi().call('priorPool', payload));
  }

  async function loadEarlierArchitectures(runId: string) {
    await track(earlierArchitectures, () => useApi().call('runArchitectures', { runId }));
  }

  /** Uses a given architecture (from the pool or an earlier run) as the prior. */
  function usePriorArchitecture(compact: string) {
    if (draft.value) draft.value.prior = { kind: 'architecture', text: compact };
  }

  function setPriorKind(kind: 'random' | 'pool' | 'architecture') {
    if (!draft.value) return;
    const seed = draft.value.seed;
    if (kind === 'random') draft.value.prior = { kind, seed };
    else if (kind === 'pool') draft.value.prior = { kind, seed, size: 8 };
    else draft.value.prior = { kind, text: '' };
  }

  /** Launches the search; resolves to the new run id, or null if refused. */
  async function start(): Promise<string | null> {
    if (!draft.value || !canLaunch.value) return null;
    const config = copy(draft.value);
    const result = await track(launch, () => useApi().call('startSearch', { config }));
    return result?.runId ?? null;
  }

  return {
    presets,
    draft,
    serverCheck,
    pool,
    earlierArchitectures,
    launch,
    localProblems,
    problems,
    problemsByPath,
    canLaunch,
    presetInfo,
    loadPresets,
    choosePreset,
    checkNow,
    loadPool,
    loadEarlierArchitectures,
    usePriorArchitecture,
    setPriorKind,
    start,
  };
});

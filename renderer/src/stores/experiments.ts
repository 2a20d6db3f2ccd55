/**
 * The Experiments view's state: the chosen run kind, its draft (checked
 * against the API's schema on every change), the completed search runs an
 * experiment can use, and the launch call; plus each experiment run's
 * parsed results, fetched once it has completed.
 */
import { defineStore } from 'pinia';
import { computed, reactive, ref } from 'vue';

import {
  experimentInputSchema,
  type ExperimentKind,
  type ExperimentResult,
  type RunSummary,
} from '../../../main/api/contract';
import { useApi } from '../api/client';
import { callState, track, type CallState } from './callState';
import {
  defaultDraft,
  experimentFields,
  experimentPayload,
  experimentProblems,
  type ExperimentDraft,
} from './experimentForm';

export const useExperimentsStore = defineStore('experiments', () => {
  const kind = ref<ExperimentKind>('baseline-random');
  const draft = ref<ExperimentDraft>(defaultDraft('baseline-random'));
  const sources = callState<RunSummary[]>([]);
  const launch = callState<{ runId: string }>();
  /** Results by run id: each experiment run's results are fetched once. */
  const results = reactive<Record<string, CallState<ExperimentResult>>>({});

  const fields = computed(() => experimentFields(kind.value));
  const problems = computed(() => experimentProblems(draft.value));
  const canLaunch = computed(
    () => Object.keys(problems.value).length === 0 && !launch.loading,
  );

  /** Completed search runs: the ones with a trained supernet and generator. */
  async function loadSources() {
    await track(sources, async () => {
      const runs = await useApi().call('listRuns', { kind: 'search', status: 'completed' });
      return [...runs].sort((a, b) => b.createdAt - a.createdAt);
    });
    const first = sources.data?.[0]?.id;
    if (first && draft.value.sourceRunId === undefined && requiresSource(kind.value)) {
      draft.value.sourceRunId = first;
    }
  }

  function requiresSource(k: ExperimentKind): boolean {
    return experimentFields(k).some((f) => f.input === 'run' && f.required);
  }

  /** Switches kind: the draft restarts from that kind's defaults, keeping the source run. */
  function chooseKind(next: ExperimentKind) {
    const source = draft.value.sourceRunId as string | undefined;
    kind.value = next;
    draft.value = defaultDraft(next, requiresSource(next) ? source ?? sources.data?.[0]?.id
      : undefined);
    launch.error = null;
  }

  /**
   * Fills the form with a stored experiment (a run's `config.experiment`), so
   * an interrupted run that cannot resume is started again as it was.
   */
  function prefill(stored: ExperimentDraft) {
    kind.value = stored.kind;
    draft.value = { ...stored };
    launch.error = null;
  }

  /** Sets one field of the draft (undefined clears it, so the default applies). */
  function setField(name: string, value: unknown) {
    draft.value = { ...draft.value, [name]: value };
  }

  /**
   * Starts the drafted experiment. Nothing is sent while the schema finds a
   * problem; the service's refusal lands in `launch.error`.
   *
   * @returns the new run's id, or null when nothing was started.
   */
  async function start(): Promise<string | null> {
    if (!canLaunch.value) return null;
    const parsed = experimentInputSchema.safeParse(experimentPayload(draft.value));
    if (!parsed.success) return null;
    const started = await track(launch, () =>
      useApi().call('startExperiment', { experiment: parsed.data }),
    );
    return started?.runId ?? null;
  }

  /** Fetches an experiment run's results unless they are held or on their way. */
  async function loadResult(runId: string): Promise<void> {
    const held = results[runId];
    if (held && (held.loading || held.data)) return;
    results[runId] = callState<ExperimentResult>();
    await track(results[runId], () => useApi().call('experimentResult', { runId }));
  }

  return {
    kind,
    draft,
    sources,
    launch,
    results,
    fields,
    problems,
    canLaunch,
    loadSources,
    chooseKind,
    prefill,
    setField,
    start,
    loadResult,
  };
});

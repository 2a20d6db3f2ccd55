// @vitest-environment happy-dom
/**
 * The Experiments form against a fake API: its fields and defaults come from
 * the API's own schema, a value the schema refuses is explained at its field
 * and never sent, a valid draft launches exactly once, and an experiment
 * run's results are fetched once.
 */
import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it } from 'vitest';

import { experimentInputSchema, type RunSummary } from '../../main/api/contract.js';
import { provideApi } from '../../renderer/src/api/client.js';
import {
  defaultDraft,
  experimentFields,
  experimentProblems,
  explainResumeRefusal,
  interruptedAction,
  isExperimentKind,
  parseNumberList,
  storedExperimentDraft,
} from '../../renderer/src/stores/experimentForm.js';
import { useExperimentsStore } from '../../renderer/src/stores/experiments.js';
import { fakeApi } from './fakeApi.js';

function searchRun(id: string, createdAt: number): RunSummary {
  return {
    id, kind: 'search', name: id, status: 'completed', progress: 1, stage: null,
    preset: 'fmnist', budgets: null, tau: null, bestAccuracy: 0.5, backend: 'wasm',
    forcedSampling: true, shadowBatchNorm: true, createdAt, startedAt: null, endedAt: null,
    error: null, parentRunId: null,
  };
}

beforeEach(() => setActivePinia(createPinia()));

describe('the form read off the schema', () => {
  it('lists a kind\'s fields with the schema\'s defaults and which are required', () => {
    const fields = experimentFields('random-subnets');
    const byName = Object.fromEntries(fields.map((f) => [f.name, f]));

    expect(fields.map((f) => f.name)).toEqual(['sourceRunId', 'samples', 'budgets', 'seed',
      'validationImages', 'recalBatches', 'recalBatchSize']);
    expect(byName.sourceRunId).toMatchObject({ input: 'run', required: true });
    // The same defaults a parse of the bare payload gives.
    const parsed = experimentInputSchema.parse({ kind: 'random-subnets', sourceRunId: 's' });
    expect(byName.samples).toMatchObject({ input: 'integer', required: false,
      defaultValue: (parsed as { samples: number }).samples });
  });

  it('leaves the whole search configuration out of the form (the New search form owns it)',
    () => {
      expect(experimentFields('compare-search').map((f) => f.name)).not.toContain('search');
      expect(experimentFields('ablation').map((f) => f.name)).not.toContain('search');
    });

  it('marks float fields as numbers and list fields as lists', () => {
    const byName = Object.fromEntries(
      experimentFields('baseline-evolution').map((f) => [f.name, f.input]),
    );
    expect(byName.mutationRate).toBe('number');
    expect(byName.population).toBe('integer');
    expect(byName.targetsM).toBe('list');
  });

  it('accepts a kind\'s defaults once a source run is chosen, and asks for one until then',
    () => {
      expect(experimentProblems(defaultDraft('baseline-random', 'run-1'))).toEqual({});
      expect(Object.keys(experimentProblems(defaultDraft('baseline-random'))))
        .toEqual(['sourceRunId']);
    });

  it('explains a value the service would refuse at its own field', () => {
    const draft = { ...defaultDraft('random-subnets', 'run-1'), samples: 0 };
    const problems = experimentProblems(draft);
    expect(Object.keys(problems)).toEqual(['samples']);
    // The schema's count(1, 100_000), said as the user reads it.
    expect(problems.samples).toEqual(['must be a whole number between 1 and 100,000']);
  });

  it('reads comma-separated budgets, keeping a bad piece as NaN for the schema to explain',
    () => {
      expect(parseNumberList(' 1.2, 1.6 ,')).toEqual([1.2, 1.6]);
      expect(parseNumberList('')).toBeUndefined();
      const draft = { ...defaultDraft('baseline-random', 'r'), targetsM: parseNumberList('1, x') };
      expect(Object.keys(experimentProblems(draft))).toEqual(['targetsM']);
    });

  it('says an emptied number field is required, not "expected number, received NaN"', () => {
    // NumberField emits NaN for an emptied required field.
    const draft = { ...defaultDraft('baseline-random', 'r'), samples: Number.NaN };
    expect(experimentProblems(draft)).toEqual({ samples: ['required'] });
  });

  it('names the bad item of a list by its place from 1, with the rule it breaks', () => {
    const draft = { ...defaultDraft('baseline-random', 'r'),
      targetsM: parseNumberList('1, x, -2') };
    // budgetM is z.number().positive().max(1e6); items 2 and 3 break it.
    expect(experimentProblems(draft)).toEqual({ targetsM: [
      'item 2 must be a positive number up to 1,000,000',
      'item 3 must be a positive number up to 1,000,000',
    ] });
  });

  it('words fractional ranges and exclusive bounds the way the schema sets them', () => {
    const evolution = { ...defaultDraft('baseline-evolution', 'r'), mutationRate: 2 };
    expect(experimentProblems(evolution).mutationRate)
      .toEqual(['must be a number between 0 and 1']);
    const scratch = { ...defaultDraft('train-scratch'), architecture: '33----', lr: 0 };
    expect(experimentProblems(scratch).lr).toEqual(['must be a positive number up to 10']);
  });

  it('says a missing source run or text is required', () => {
    expect(experimentProblems(defaultDraft('prior-study'))).toEqual({ sourceRunId: ['required'] });
    expect(experimentProblems(defaultDraft('train-scratch')))
      .toEqual({ architecture: ['required'] });
  });

  it('knows which run kinds are experiments', () => {
    expect(isExperimentKind('prior-study')).toBe(true);
    expect(isExperimentKind('search')).toBe(false);
  });
});

describe('the experiments store', () => {
  it('offers completed search runs, newest first, and picks the newest as source', async () => {
    const api = fakeApi({
      listRuns: () => [searchRun('old', 1), searchRun('new', 2)],
    });
    provideApi(api.client);
    const store = useExperimentsStore();

    await store.loadSources();

    expect(api.calls[0]).toEqual({ name: 'listRuns',
      payload: { kind: 'search', status: 'completed' } });
    expect(store.sources.data!.map((r) => r.id)).toEqual(['new', 'old']);
    expect(store.draft.sourceRunId).toBe('new');
  });

  it('sends nothing while a field is invalid', async () => {
    const api = fakeApi({ startExperiment: () => ({ runId: 'x' }) });
    provideApi(api.client);
    const store = useExperimentsStore();
    store.chooseKind('random-subnets');
    store.setField('sourceRunId', 'run-1');
    store.setField('samples', 0);

    expect(store.canLaunch).toBe(false);
    expect(await store.start()).toBeNull();
    expect(api.calls.filter((c) => c.name === 'startExperiment')).toEqual([]);
  });

  it('launches a valid draft with the schema\'s defaults filled in', async () => {
    const api = fakeApi({ startExperiment: () => ({ runId: 'exp-1' }) });
    provideApi(api.client);
    const store = useExperimentsStore();
    store.chooseKind('baseline-random');
    store.setField('sourceRunId', 'run-1');
    store.setField('samples', 7);

    expect(await store.start()).toBe('exp-1');

    const sent = api.calls.find((c) => c.name === 'startExperiment')!.payload as {
      experiment: Record<string, unknown>;
    };
    expect(sent.experiment).toMatchObject({ kind: 'baseline-random', sourceRunId: 'run-1',
      samples: 7, budgets: 10 });
  });

  it('keeps the service\'s refusal where the launch button shows it', async () => {
    const api = fakeApi({
      startExperiment: () => {
        throw new Error('run run-1 is not a completed search');
      },
    });
    provideApi(api.client);
    const store = useExperimentsStore();
    store.chooseKind('prior-study');
    store.setField('sourceRunId', 'run-1');

    expect(await store.start()).toBeNull();
    expect(store.launch.error).toBe('run run-1 is not a completed search');
  });

  it('switching kind restarts from that kind\'s defaults but keeps the source run', () => {
    provideApi(fakeApi({}).client);
    const store = useExperimentsStore();
    store.setField('sourceRunId', 'run-9');
    store.setField('samples', 3);

    store.chooseKind('baseline-evolution');

    expect(store.draft).toEqual(defaultDraft('baseline-evolution', 'run-9'));
  });

  it('fetches an experiment run\'s results once, however often it is asked', async () => {
    const result = { runId: 'e', kind: 'random-subnets', result: { random: [], generated: [],
      meanBeatsShare: 1 } };
    const api = fakeApi({ experimentResult: () => result });
    provideApi(api.client);
    const store = useExperimentsStore();

    await Promise.all([store.loadResult('e'), store.loadResult('e')]);
    await store.loadResult('e');

    expect(api.calls.filter((c) => c.name === 'experimentResult')).toHaveLength(1);
    expect(store.results.e.data).toEqual(result);
  });
});

describe('an interrupted run', () => {
  const interrupted = (kind: string) => ({ kind, status: 'interrupted' });

  it('resumes when it is a search, an ablation or a prior study, and starts again otherwise',
    () => {
      // The job runner keeps sub-runs for ablation and prior-study only.
      expect(interruptedAction(interrupted('search'))).toBe('resume');
      expect(interruptedAction(interrupted('ablation'))).toBe('resume');
      expect(interruptedAction(interrupted('prior-study'))).toBe('resume');
      for (const kind of ['baseline-random', 'baseline-evolution', 'compare-search',
        'random-subnets', 'train-scratch']) {
        expect(interruptedAction(interrupted(kind))).toBe('start-again');
      }
      expect(interruptedAction({ kind: 'search', status: 'completed' })).toBeNull();
    });

  it('starts again from the input stored in its config, keeping only the schema\'s keys', () => {
    const config = {
      runDir: '/runs/src', method: 'evolution',
      experiment: { kind: 'baseline-evolution', sourceRunId: 'src', budgets: 3,
        targetsM: [1.2, 1.5], population: 4, parents: 2, generations: 2, mutationRate: 0.2,
        seed: 0, validationImages: 50, recalBatches: 1, recalBatchSize: 64, search: null },
      places: { sourceDir: '/runs/src' },
    };
    const draft = storedExperimentDraft(config);

    // "search" is null (not a key of this kind anyway); everything else is the input.
    expect(draft).toEqual({ kind: 'baseline-evolution', sourceRunId: 'src', budgets: 3,
      targetsM: [1.2, 1.5], population: 4, parents: 2, generations: 2, mutationRate: 0.2,
      seed: 0, validationImages: 50, recalBatches: 1, recalBatchSize: 64 });
    expect(experimentProblems(draft!)).toEqual({});
    expect(storedExperimentDraft({ runDir: '/x' })).toBeNull();
    expect(storedExperimentDraft({ experiment: { kind: 'search' } })).toBeNull();
  });

  it('explains a refused resume in the page\'s words, not the API\'s', () => {
    const refusal = 'run r1 (baseline-evolution) was interrupted and a baseline-evolution ' +
      'keeps nothing to resume from; start it again with startExperiment (its input is in ' +
      "the run's config.experiment)";
    const text = explainResumeRefusal(refusal, interrupted('baseline-evolution'));

    expect(text).toBe('this evolution baseline run keeps nothing to continue from. Use "Start ' +
      'again" to run it anew with the same settings.');
    expect(text).not.toMatch(/startExperiment|config\.experiment/);
    expect(explainResumeRefusal('run r1 is completed; only an interrupted (or queued) run can ' +
      'be resumed', { kind: 'search', status: 'completed' }))
      .toBe('it is completed, and only an interrupted run can be resumed.');
    expect(explainResumeRefusal('disk full', interrupted('search'))).toBe('disk full');
  });
});

describe('prefilling the form', () => {
  it('opens the stored kind with the stored input, ready to launch as it was', async () => {
    const api = fakeApi({
      listRuns: () => [searchRun('src', 1), searchRun('newer', 2)],
      startExperiment: () => ({ runId: 'again' }),
    });
    provideApi(api.client);
    const store = useExperimentsStore();
    const stored = storedExperimentDraft({ experiment: { kind: 'random-subnets',
      sourceRunId: 'src', samples: 12, budgets: 4, seed: 0, validationImages: 50,
      recalBatches: 1, recalBatchSize: 64 } })!;

    store.prefill(stored);
    await store.loadSources();

    // Loading sources must not replace the stored source with the newest run.
    expect(store.kind).toBe('random-subnets');
    expect(store.draft.sourceRunId).toBe('src');
    expect(await store.start()).toBe('again');
    const sent = api.calls.find((c) => c.name === 'startExperiment')?.payload;
    expect(sent).toEqual({ experiment: { kind: 'random-subnets', sourceRunId: 'src',
      samples: 12, budgets: 4, seed: 0, validationImages: 50, recalBatches: 1,
      recalBatchSize: 64 } });
  });
});

// @vitest-environment happy-dom
/**
 * The Pinia stores against a fake API: each call keeps its own loading and
 * error state, pushed events update the views live, and the New search form
 * explains invalid settings before launch.
 */
import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it, vi } from 'vitest';

import type { ConfigCheck, PresetInfo, RunSummary } from '../../main/api/contract.js';
import { defaultSearchConfig } from '../../main/engine/pipeline/defaults.js';
import { provideApi } from '../../renderer/src/api/client.js';
import { useCompareStore } from '../../renderer/src/stores/compare.js';
import { sweepBudgets, useGenerateStore } from '../../renderer/src/stores/generate.js';
import { useNewSearchStore } from '../../renderer/src/stores/newSearch.js';
import { progressText, useRunDetailStore } from '../../renderer/src/stores/runDetail.js';
import { useRunsStore } from '../../renderer/src/stores/runs.js';
import { fakeApi } from './fakeApi.js';

function run(partial: Partial<RunSummary>): RunSummary {
  return {
    id: 'r',
    kind: 'search',
    name: 'run',
    status: 'completed',
    progress: 1,
    stage: null,
    preset: 'fmnist',
    budgets: null,
    tau: null,
    bestAccuracy: null,
    backend: 'wasm',
    forcedSampling: true,
    shadowBatchNorm: true,
    createdAt: 0,
    startedAt: null,
    endedAt: null,
    error: null,
    parentRunId: null,
    ...partial,
  };
}

/** A progress event of a run at a given overall progress. */
function progressOf(runId: string, progress: number) {
  return {
    runId,
    stage: 'supernet',
    epoch: 1,
    epochs: 2,
    step: 1,
    steps: 4,
    loss: 2.3,
    accuracy: 0.1,
    etaSec: 20,
    progress,
  };
}

function detailOf(id: string) {
  return { ...run({ id }), config: {}, seed: 1, libraryVersions: {}, artifacts: [] };
}

beforeEach(() => {
  setActivePinia(createPinia());
});

describe('runs store', () => {
  const runs = [
    run({ id: 'a', name: 'alpha', tau: 0.8, createdAt: 1, status: 'completed' }),
    run({ id: 'b', name: 'beta', tau: null, createdAt: 3, status: 'running', progress: 0.2 }),
    run({ id: 'c', name: 'gamma', tau: 0.95, createdAt: 2, status: 'failed' }),
  ];

  it('sorts newest first by default, missing values last whichever the direction', async () => {
    provideApi(fakeApi({ listRuns: () => runs }).client);
    const store = useRunsStore();
    await store.load();

    expect(store.rows.map((r) => r.id)).toEqual(['b', 'c', 'a']);
    store.sortBy('tau'); // descending: 0.95, 0.8, then the run without tau
    expect(store.rows.map((r) => r.id)).toEqual(['c', 'a', 'b']);
    store.sortBy('tau'); // ascending: 0.8, 0.95, still the missing one last
    expect(store.rows.map((r) => r.id)).toEqual(['a', 'c', 'b']);
  });

  it('filters by text and by status', async () => {
    provideApi(fakeApi({ listRuns: () => runs }).client);
    const store = useRunsStore();
    await store.load();

    store.filterText = 'GAM';
    expect(store.rows.map((r) => r.id)).toEqual(['c']);
    store.filterText = '';
    store.statusFilter = 'running';
    expect(store.rows.map((r) => r.id)).toEqual(['b']);
  });

  it('keeps a failed list call as an error in its own state', async () => {
    provideApi(
      fakeApi({
        listRuns: () => {
          throw new Error('registry locked');
        },
      }).client,
    );
    const store = useRunsStore();
    await store.load();

    expect(store.list.error).toBe('registry locked');
    expect(store.list.loading).toBe(false);
    expect(store.rows).toEqual([]);
  });

  it('shows live progress from pushed events without reloading', async () => {
    const api = fakeApi({ listRuns: () => runs });
    provideApi(api.client);
    const store = useRunsStore();
    await store.load();
    const loads = api.calls.length;

    store.applyEvent({
      type: 'progress',
      event: {
        runId: 'b',
        stage: 'generator',
        epoch: 2,
        epochs: 10,
        step: 5,
        steps: 20,
        loss: 0.7,
        accuracy: 0.6,
        etaSec: 40,
        progress: 0.55,
      },
    });

    const b = store.rows.find((r) => r.id === 'b');
    expect(b?.progress).toBe(0.55);
    expect(b?.stage).toBe('generator');
    expect(api.calls.length).toBe(loads);
  });

  it('re-reads the list when progress arrives for a run it still holds as queued', async () => {
    // The job runner announces "running" at launch, before the renderer knows
    // the run; the first progress event is what tells the table to catch up.
    let status: RunSummary['status'] = 'queued';
    const api = fakeApi({ listRuns: () => [run({ id: 'q', status, progress: 0 })] });
    provideApi(api.client);
    const store = useRunsStore();
    await store.load();
    status = 'running';

    store.applyEvent({ type: 'progress', event: progressOf('q', 0.1) });
    await vi.waitFor(() => expect(store.rows[0].status).toBe('running'));
    expect(api.calls.filter((c) => c.name === 'listRuns')).toHaveLength(2);
  });

  it('shows an ended run with its stored progress, not its last progress event', async () => {
    provideApi(fakeApi({ listRuns: () => runs }).client);
    const store = useRunsStore();
    await store.load();

    // Run a completed after this event; the event must not drag it back to 92 %.
    store.applyEvent({ type: 'progress', event: progressOf('a', 0.92) });
    expect(store.rows.find((r) => r.id === 'a')?.progress).toBe(1);
  });

  it('gives cancel its own call state, so a refused cancel shows on that row only', async () => {
    provideApi(
      fakeApi({
        listRuns: () => runs,
        cancelRun: () => {
          throw new Error('run a is completed; nothing to cancel');
        },
      }).client,
    );
    const store = useRunsStore();
    await store.load();
    await store.cancel('a');

    expect(store.actions.a.error).toMatch(/nothing to cancel/);
    expect(store.list.error).toBeNull();
  });
});

describe('the resume of a run', () => {
  it('keeps a refused resume in the run\'s call state and remembers it was a resume',
    async () => {
      provideApi(fakeApi({
        listRuns: () => [],
        resumeRun: () => {
          throw new Error('run e1 (random-subnets) was interrupted and a random-subnets keeps ' +
            'nothing to resume from');
        },
      }).client);
      const store = useRunsStore();

      await store.resume('e1');

      // The page words the refusal by what was tried ("Could not resume the run").
      expect(store.lastAction.e1).toBe('resume');
      expect(store.actions.e1.error).toMatch(/nothing to resume from/);
    });
});

describe('the progress line', () => {
  const progress = (epoch: number, epochs: number, step: number, steps: number) => ({
    runId: 'r', stage: 'random', epoch, epochs, step, steps, loss: null, accuracy: null,
    etaSec: null, progress: 0.1,
  });

  it('shows epochs and steps with their totals while the stage has them', () => {
    expect(progressText({ ...progress(2, 10, 5, 20), stage: 'generator' }))
      .toBe('generator epoch 2/10, step 5/20');
  });

  it('leaves out a zero total rather than printing "0/0"', () => {
    // A baseline search reports epoch 0/0 and steps without a total.
    expect(progressText(progress(0, 0, 1, 0))).toBe('random step 1');
    expect(progressText(progress(0, 0, 0, 0))).toBe('random');
    expect(progressText(progress(1, 3, 4, 0))).toBe('random epoch 1/3, step 4');
  });
});

describe('run detail store', () => {
  it('fetches only newer metric rows when progress arrives for the open run', async () => {
    vi.useFakeTimers();
    const rows = [{ id: 1, stage: 'supernet', epoch: 1, step: 1, name: 'loss', value: 2, at: 0 }];
    const api = fakeApi({
      getRun: () => detailOf('r1'),
      runMetrics: (p: { afterId?: number }) =>
        p.afterId === 1
          ? [{ id: 2, stage: 'supernet', epoch: 1, step: 2, name: 'loss', value: 1.5, at: 1 }]
          : rows,
      runLog: () => [],
      runArchitectures: () => [],
      runSweeps: () => [],
    });
    provideApi(api.client);
    const store = useRunDetailStore();
    await store.open('r1');

    store.applyEvent({
      type: 'progress',
      event: {
        runId: 'r1',
        stage: 'supernet',
        epoch: 1,
        epochs: 3,
        step: 2,
        steps: 10,
        loss: 1.5,
        accuracy: null,
        etaSec: 12,
        progress: 0.07,
      },
    });
    await vi.advanceTimersByTimeAsync(1100);
    vi.useRealTimers();

    const metricCalls = api.calls.filter((c) => c.name === 'runMetrics');
    expect(metricCalls.map((c) => c.payload)).toEqual([
      { runId: 'r1' },
      { runId: 'r1', afterId: 1 },
    ]);
    const points = [
      [1, 2],
      [2, 1.5],
    ];
    expect(store.curves).toEqual([{ stage: 'supernet', name: 'loss', points }]);
    expect(store.progress?.etaSec).toBe(12);
  });

  it('re-reads a run shown as queued once its progress arrives: it is running', async () => {
    let status: RunSummary['status'] = 'queued';
    const api = fakeApi({
      getRun: () => ({ ...detailOf('r1'), status }),
      runMetrics: () => [],
      runLog: () => [],
      runArchitectures: () => [],
      runSweeps: () => [],
    });
    provideApi(api.client);
    const store = useRunDetailStore();
    await store.open('r1');
    expect(store.run.data?.status).toBe('queued');
    status = 'running';

    store.applyEvent({ type: 'progress', event: progressOf('r1', 0.2) });
    await vi.waitFor(() => expect(store.run.data?.status).toBe('running'));
    // Running now: later progress needs no further re-read of the record.
    store.applyEvent({ type: 'progress', event: progressOf('r1', 0.3) });
    expect(api.calls.filter((c) => c.name === 'getRun')).toHaveLength(2);
  });

  it('ignores events of other runs', async () => {
    provideApi(
      fakeApi({
        getRun: () => detailOf('r1'),
        runMetrics: () => [],
        runLog: () => ['first'],
        runArchitectures: () => [],
        runSweeps: () => [],
      }).client,
    );
    const store = useRunDetailStore();
    await store.open('r1');

    store.applyEvent({ type: 'log', event: { runId: 'other', line: 'not mine' } });
    store.applyEvent({ type: 'log', event: { runId: 'r1', line: 'mine' } });
    expect(store.log.data).toEqual(['first', 'mine']);
  });
});

describe('new search store', () => {
  const preset: PresetInfo = {
    name: 'fmnist',
    layers: 6,
    inputSize: 28,
    inputChannels: 1,
    constraint: { lowM: 1.8, highM: 3.5 },
    flopsRangeM: { minM: 1, maxM: 4 },
    defaultConfig: defaultSearchConfig('fmnist'),
  };

  it('explains a schema problem at once, without asking the service', async () => {
    const api = fakeApi({
      listPresets: () => [preset],
      checkSearchConfig: () => ({ ok: true, problems: [] }),
    });
    provideApi(api.client);
    const store = useNewSearchStore();
    await store.loadPresets();

    store.draft!.supernet.epochs = 0;
    expect(store.problems).toEqual([
      { path: 'supernet.epochs', message: expect.stringMatching(/>=1|at least|too small/i) },
    ]);
    expect(store.canLaunch).toBe(false);
  });

  it('stops "checking" once a schema problem leaves nothing to ask the service', async () => {
    vi.useFakeTimers();
    const api = fakeApi({
      listPresets: () => [preset],
      checkSearchConfig: () => ({ ok: true, problems: [] }),
    });
    provideApi(api.client);
    const store = useNewSearchStore();
    await store.loadPresets();
    await vi.advanceTimersByTimeAsync(300);
    const checks = api.calls.filter((c) => c.name === 'checkSearchConfig').length;

    store.draft!.supernet.epochs = 0;
    await vi.advanceTimersByTimeAsync(300);
    vi.useRealTimers();

    // The form explains the schema problem; it is not left "Checking settings…".
    expect(store.serverCheck.loading).toBe(false);
    expect(api.calls.filter((c) => c.name === 'checkSearchConfig')).toHaveLength(checks);
    expect(store.canLaunch).toBe(false);
  });

  it("shows the service's space check and blocks launch until it passes", async () => {
    vi.useFakeTimers();
    const verdict: ConfigCheck = {
      ok: false,
      problems: [
        { path: 'constraint', message: 'the budget interval 0.1..1.5 MFLOPs must lie inside' },
      ],
    };
    const api = fakeApi({ listPresets: () => [preset], checkSearchConfig: () => verdict });
    provideApi(api.client);
    const store = useNewSearchStore();
    await store.loadPresets();

    store.draft!.constraint = { lowM: 0.1, highM: 1.5 };
    await vi.advanceTimersByTimeAsync(300);
    vi.useRealTimers();

    expect(store.problems).toEqual(verdict.problems);
    expect(store.problemsByPath.constraint).toHaveLength(1);
    expect(store.canLaunch).toBe(false);
    expect(api.calls.some((c) => c.name === 'startSearch')).toBe(false);
  });

  it('toggles FS and SBN in the draft that is launched', async () => {
    vi.useFakeTimers();
    const api = fakeApi({
      listPresets: () => [preset],
      checkSearchConfig: () => ({ ok: true, problems: [] }),
      startSearch: () => ({ runId: 'new-run' }),
    });
    provideApi(api.client);
    const store = useNewSearchStore();
    await store.loadPresets();

    store.draft!.forcedSampling = false;
    store.draft!.shadowBatchNorm = false;
    await vi.advanceTimersByTimeAsync(300);
    vi.useRealTimers();
    expect(store.canLaunch).toBe(true);

    expect(await store.start()).toBe('new-run');
    const sent = api.calls.find((c) => c.name === 'startSearch')?.payload as {
      config: { forcedSampling: boolean; shadowBatchNorm: boolean };
    };
    expect(sent.config.forcedSampling).toBe(false);
    expect(sent.config.shadowBatchNorm).toBe(false);
  });
});

describe('compare store', () => {
  it('highlights exactly the layers where the architectures differ', async () => {
    const detail = (compact: string) => ({ compact, layers: [] }) as never;
    provideApi(
      fakeApi({ describeArchitecture: (p: { text: string }) => detail(p.text) }).client,
    );
    const store = useCompareStore();
    await store.add({ label: 'A', preset: 'fmnist', text: '33---- 555--- 777777', accuracy: 0.8 });
    const b = '33---- 557--- 777777';
    await store.add({ label: 'B', preset: 'fmnist', text: b, accuracy: 0.82 });

    expect([...store.differing]).toEqual([1]);
    store.remove(store.items[1].key);
    expect(store.differing.size).toBe(0); // one architecture has nothing to differ from
  });
});

describe('generate store', () => {
  it('spaces sweep budgets evenly with both ends included', () => {
    expect(sweepBudgets(1, 2, 5)).toEqual([1, 1.25, 1.5, 1.75, 2]);
  });

  it('keeps the newest slider answer when an older one arrives late', async () => {
    let release: (() => void) | null = null;
    provideApi(
      fakeApi({
        listGenerators: () => [
          {
            id: 'g',
            label: 'G',
            source: 'run',
            preset: 'fmnist',
            constraint: { lowM: 2, highM: 3 },
          },
        ],
        generate: async (p: { budgetsM: number[] }) => {
          const budget = p.budgetsM[0];
          // The first request (2.2) is held back until after the second answers.
          if (budget === 2.2) await new Promise<void>((r) => (release = r));
          return [{ budgetM: budget, compact: `for ${budget}`, flopsM: budget, params: 1 }];
        },
      }).client,
    );
    const store = useGenerateStore();
    await store.load();
    expect(store.budgetM).toBe(2.5); // the slider starts mid-interval

    const slow = store.generateAt(2.2);
    await store.generateAt(2.8);
    release!();
    await slow;

    expect(store.single.data?.[0].compact).toBe('for 2.8');
  });
});

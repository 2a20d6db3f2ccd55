/**
 * The paper's experiments through the API: startExperiment validates its
 * payload at the boundary, refuses a source run that is missing or not
 * completed, runs the experiment in the job runner's child process, and
 * experimentResult returns the report the run wrote.
 */
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { API, experimentInputSchema, type ExperimentResult } from '../main/api/contract.js';
import { createHandlers, dispatch, parsePayload } from '../main/api/handlers.js';
import { RegistryWorkbenchService } from '../main/api/service.js';
import { CPU_ABLATION } from '../main/engine/experiments/ablation.js';
import { CPU_EVOLUTION, CPU_RANDOM_SEARCH } from '../main/engine/experiments/baselines.js';
import { CPU_PRIOR_STUDY } from '../main/engine/experiments/priorStudy.js';
import { DEFAULT_SCORING } from '../main/engine/experiments/scorer.js';
import { CPU_SCRATCH_TRAINING } from '../main/engine/experiments/trainScratch.js';
import { parseSearchConfig } from '../main/engine/pipeline/config.js';
import { defaultSearchConfig } from '../main/engine/pipeline/defaults.js';
import { openWorkbench } from '../main/api/workbench.js';
import { createExperimentRun, executeExperiment } from '../main/jobs/experimentJob.js';
import { planExperiment, type ExperimentSpec } from '../main/jobs/experimentKinds.js';
import { JobRunner, type JobProgress } from '../main/jobs/jobRunner.js';
import { createSearchRun, executeSearchRun } from '../main/jobs/searchJob.js';
import { RunRegistry } from '../main/registry/index.js';
import { startCli, tinyHome, TINY_SEARCH } from './helpers/tinySearch.js';

/** Scoring small enough for tests: 50 validation images, one recalibration batch of 32. */
const SCORING = { validationImages: 50, recalBatches: 1, recalBatchSize: 32 };

const env = tinyHome('sgnas-exp-api-');
let registry: RunRegistry;
let jobs: JobRunner;
let handlers: ReturnType<typeof createHandlers>;
let service: RegistryWorkbenchService;
let sourceRunId: string;

function waitForStatus(runId: string, wanted: string[]): Promise<string> {
  return new Promise((resolve) => {
    const listener = (e: { runId: string; status: string }) => {
      if (e.runId === runId && wanted.includes(e.status)) {
        jobs.off('status', listener);
        resolve(e.status);
      }
    };
    jobs.on('status', listener);
  });
}

beforeAll(async () => {
  registry = await RunRegistry.open(env.db);
  jobs = new JobRunner({ registry });
  service = new RegistryWorkbenchService({
    registry,
    jobs,
    generators: { list: async () => [], generate: async () => [] },
  });
  handlers = createHandlers(service);

  // A real tiny search, completed in this process: the source every experiment uses.
  const base = defaultSearchConfig('fmnist');
  const config = parseSearchConfig({
    ...base,
    ...TINY_SEARCH,
    supernet: { ...base.supernet, ...TINY_SEARCH.supernet },
    generator: { ...base.generator, ...TINY_SEARCH.generator },
  });
  const run = await createSearchRun(registry, config);
  await executeSearchRun(registry, run.id);
  sourceRunId = run.id;
}, 240_000);

afterAll(async () => {
  await jobs.shutdown();
  service.close();
  await registry.close();
  rmSync(env.home, { recursive: true, force: true });
});

describe('startExperiment payload', () => {
  it('names the field that is out of range, under experiment', () => {
    const bad = { experiment: { kind: 'baseline-random', sourceRunId: 'r1', samples: 0 } };
    expect(() => parsePayload('startExperiment', bad)).toThrow(
      /startExperiment: invalid payload: experiment\.samples: Too small/);
  });

  it('refuses an unknown field (a misspelt option must not fall back to its default)', () => {
    const bad = { experiment: { kind: 'baseline-evolution', sourceRunId: 'r1', populaton: 8 } };
    expect(() => parsePayload('startExperiment', bad)).toThrow(/populaton/);
  });

  it('names the kind when it is not an experiment, listing the kinds', () => {
    const bad = { experiment: { kind: 'search', sourceRunId: 'r1' } };
    expect(() => parsePayload('startExperiment', bad)).toThrow(
      /experiment\.kind: .*'baseline-random'.*'train-scratch'/);
  });

  it('refuses a compare-search given both a source run and a search to train', () => {
    const bad = { experiment: { kind: 'compare-search', sourceRunId: 'r1',
      search: defaultSearchConfig('fmnist') } };
    expect(() => parsePayload('startExperiment', bad)).toThrow(
      /experiment\.search: give either sourceRunId .* or search/);
  });

  it('fills the same defaults the CLI uses', () => {
    const parse = (input: object) => experimentInputSchema.parse(input) as Record<string, unknown>;
    const scoring = { validationImages: DEFAULT_SCORING.validationImages,
      recalBatches: DEFAULT_SCORING.recalibrationBatches,
      recalBatchSize: DEFAULT_SCORING.recalibrationBatchSize };

    expect(parse({ kind: 'baseline-random', sourceRunId: 'r' })).toEqual({
      kind: 'baseline-random', sourceRunId: 'r', budgets: 10, seed: 0,
      samples: CPU_RANDOM_SEARCH.samples, ...scoring });
    expect(parse({ kind: 'baseline-evolution', sourceRunId: 'r' })).toMatchObject({
      population: CPU_EVOLUTION.population, parents: CPU_EVOLUTION.parents,
      generations: CPU_EVOLUTION.generations, mutationRate: CPU_EVOLUTION.mutationRate });
    expect(parse({ kind: 'ablation' })).toMatchObject({ preset: 'fmnist',
      samples: CPU_ABLATION.samples, sampleSeed: 0 });
    expect(parse({ kind: 'prior-study', sourceRunId: 'r' })).toMatchObject({
      candidates: CPU_PRIOR_STUDY.candidates, budgets: CPU_PRIOR_STUDY.budgets, seed: 0 });
    expect(parse({ kind: 'train-scratch', architecture: 'x' })).toMatchObject({
      epochs: CPU_SCRATCH_TRAINING.epochs, batchSize: CPU_SCRATCH_TRAINING.batchSize,
      lr: CPU_SCRATCH_TRAINING.lr, seed: CPU_SCRATCH_TRAINING.seed });
    expect(Object.keys(API)).toContain('experimentResult');
  });
});

describe('startExperiment through the job runner', () => {
  it('refuses a missing source run, and one not completed, registering nothing', async () => {
    const before = (await registry.listRuns()).length;
    const missing = await dispatch(handlers, 'startExperiment',
      { experiment: { kind: 'baseline-random', sourceRunId: 'no-such-run' } });
    expect(missing).toMatchObject({ ok: false, error: { code: 'not-found' } });
    expect(JSON.stringify(missing)).toMatch(/source run no-such-run does not exist/);

    // Registered but never run: queued, so it has no trained supernet.
    const queued = await createSearchRun(registry, defaultSearchConfig('fmnist'));
    const unfinished = await dispatch(handlers, 'startExperiment',
      { experiment: { kind: 'random-subnets', sourceRunId: queued.id } });
    expect(unfinished).toMatchObject({ ok: false, error: { code: 'conflict' } });
    expect(JSON.stringify(unfinished)).toMatch(
      new RegExp(`source run ${queued.id} is queued, not completed`));

    expect(await registry.listRuns()).toHaveLength(before + 1);
  });

  it('runs a baseline-random in the worker; its result is the best of what it scored',
    async () => {
      const progress: JobProgress[] = [];
      const onProgress = (e: JobProgress) => progress.push(e);
      jobs.on('progress', onProgress);

      const { runId } = await handlers.startExperiment({ experiment: {
        kind: 'baseline-random', sourceRunId, budgets: 2, samples: 10, seed: 4, ...SCORING } });
      const tooEarly = await dispatch(handlers, 'experimentResult', { runId });
      expect(tooEarly).toMatchObject({ ok: false, error: { code: 'not-found' } });
      expect(JSON.stringify(tooEarly)).toMatch(/has no results yet: it is (queued|running)/);

      expect(await waitForStatus(runId, ['completed', 'failed', 'cancelled'])).toBe('completed');
      jobs.off('progress', onProgress);

      const run = await registry.getRun(runId);
      expect(run.kind).toBe('baseline-random');
      expect(run.parentRunId).toBe(sourceRunId);
      const mine = progress.filter((e) => e.runId === runId);
      expect(mine.length).toBeGreaterThan(0);
      expect(mine.every((e) => e.stage === 'random')).toBe(true);

      const answer = (await handlers.experimentResult({ runId })) as ExperimentResult;
      expect(answer.kind).toBe('baseline-random');
      if (answer.kind !== 'baseline-random') return;
      const report = answer.result;
      expect(report.method).toBe('random');
      expect(report.budgets).toHaveLength(2);

      // Budget b's searches are the metric points of epoch b: 10 scores each,
      // and the report keeps the best of them.
      const scores = await registry.getMetrics(runId, { stage: 'random', name: 'accuracy' });
      for (const [b, budget] of report.budgets.entries()) {
        const scored = scores.filter((m) => m.epoch === b).map((m) => m.value);
        expect(scored).toHaveLength(10);
        expect(budget.evaluations).toBe(10);
        expect(budget.accuracy).toBe(Math.max(...scored));
        expect(budget.flopsM).toBeLessThanOrEqual(budget.targetM);
      }
      const rows = await registry.listArchitectures(runId);
      expect(rows.map((r) => r.accuracy)).toEqual(report.budgets.map((b) => b.accuracy));
    }, 120_000);

  it('cancels a running experiment: the run ends cancelled and has no results', async () => {
    const { runId } = await handlers.startExperiment({ experiment: {
      kind: 'baseline-random', sourceRunId, budgets: 1, samples: 5000, ...SCORING } });
    await new Promise<void>((resolve) => {
      const listener = (e: JobProgress) => {
        if (e.runId === runId) {
          jobs.off('progress', listener);
          resolve();
        }
      };
      jobs.on('progress', listener);
    });

    const ended = waitForStatus(runId, ['cancelled', 'completed', 'failed']);
    await handlers.cancelRun({ runId });
    expect(await ended).toBe('cancelled');
    expect((await registry.getRun(runId)).status).toBe('cancelled');

    const result = await dispatch(handlers, 'experimentResult', { runId });
    expect(result).toMatchObject({ ok: false, error: { code: 'not-found' } });
    expect(JSON.stringify(result)).toMatch(
      /baseline-random\) has no results yet: it is cancelled/);
  }, 90_000);

  it('refuses to resume an interrupted baseline, saying to start it again', async () => {
    const run = await createExperimentRun(registry, { kind: 'baseline-evolution',
      config: { experiment: { kind: 'baseline-evolution' } } });
    await registry.finish(run.id, 'interrupted');

    const answer = await dispatch(handlers, 'resumeRun', { runId: run.id });
    expect(answer).toMatchObject({ ok: false, error: { code: 'conflict' } });
    expect(JSON.stringify(answer)).toMatch(/a baseline-evolution run cannot resume .*start it /);
    expect(JSON.stringify(answer)).toMatch(/the GUI's Experiments view/);
  });

  it('says a search run has no experiment results', async () => {
    const answer = await dispatch(handlers, 'experimentResult', { runId: sourceRunId });
    expect(answer).toMatchObject({ ok: false, error: { code: 'not-found' } });
    expect(JSON.stringify(answer)).toMatch(/is a search run, not an experiment/);
  });
});

describe('an experiment stopped part-way', () => {
  /** Two budgets of 6 random architectures; the abort comes during the second budget. */
  async function stopDuringSecondBudget(interrupted: boolean) {
    const spec = experimentInputSchema.parse({ kind: 'baseline-random', sourceRunId,
      budgets: 2, samples: 6, seed: 3, ...SCORING }) as ExperimentSpec;
    const plan = planExperiment(spec, { sourceDir: registry.runFolder(sourceRunId) });
    const stop = new AbortController();
    const { run } = await executeExperiment(registry, plan.run, plan.body, plan.record, {
      signal: stop.signal,
      interruptedOnAbort: () => interrupted,
      // Progress is (budget + evaluations / 6) / 2: above 1/2 means budget 2 has begun.
      onProgress: (fraction) => {
        if (fraction > 0.5) stop.abort();
      },
    });
    return run;
  }

  it('keeps the budgets that finished when cancelled, its results marked partial', async () => {
    const run = await stopDuringSecondBudget(false);

    expect(run.status).toBe('cancelled');
    const rows = await registry.listArchitectures(run.id);
    expect(rows).toHaveLength(1);
    const report = JSON.parse(readFileSync(path.join(registry.runFolder(run.id), 'results',
      'experiment.json'), 'utf8'));
    expect(report.partial).toBe(true);
    expect(report.plannedTargetsM).toHaveLength(2);
    expect(report.budgets).toHaveLength(1);
    expect(report.budgets[0].evaluations).toBe(6);
    // The kept budget's best is the maximum of the six scores recorded for budget 0.
    const scores = (await registry.getMetrics(run.id, { stage: 'random', name: 'accuracy' }))
      .filter((m) => m.epoch === 0).map((m) => m.value);
    expect(scores).toHaveLength(6);
    expect(rows[0].accuracy).toBe(Math.max(...scores));
    expect(report.budgets[0].accuracy).toBe(rows[0].accuracy);
  }, 120_000);

  it('ends interrupted, not cancelled, when the process is stopping (Ctrl-C, shutdown)',
    async () => {
      const run = await stopDuringSecondBudget(true);

      expect(run.status).toBe('interrupted');
      expect(await registry.listArchitectures(run.id)).toHaveLength(1);
    }, 120_000);

  it('ends interrupted on Ctrl-C from the CLI, as a search does', async () => {
    const child = startCli(['baseline-random', '--run', registry.runFolder(sourceRunId),
      '--budgets', '1', '--samples', '5000', '--validation-images', '50', '--recal-batch-size',
      '32'], env.home);
    const exited = new Promise<number>((resolve) => child.on('exit', (c) => resolve(c ?? -1)));

    // Stop it once it scores: the run is registered and running by then.
    const deadline = Date.now() + 60_000;
    let runId: string | undefined;
    while (Date.now() < deadline) {
      runId = /run (\S+) \(baseline-random\) registered/.exec(child.output())?.[1];
      if (runId && (await registry.getMetrics(runId, { stage: 'random' })).length > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    child.kill('SIGINT');

    expect(await exited, child.output()).toBe(130);
    expect((await registry.getRun(runId as string)).status).toBe('interrupted');
    expect(child.output()).toMatch(/a baseline-random run cannot resume: start it again/);
  }, 120_000);
});

describe('closing the workbench (npm run serve stopped)', () => {
  it('stops the experiments in progress, which end interrupted, not running', async () => {
    const workbench = await openWorkbench({ dbPath: env.db, resourcesDir: env.home });
    const { runId } = await workbench.handlers.startExperiment({ experiment: {
      kind: 'baseline-random', sourceRunId, budgets: 1, samples: 5000, ...SCORING } });

    // Wait until the worker has started the run (it then owns the status).
    const deadline = Date.now() + 60_000;
    while ((await registry.getRun(runId)).status !== 'running' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect((await registry.getRun(runId)).status).toBe('running');

    await workbench.close();
    expect((await registry.getRun(runId)).status).toBe('interrupted');
  }, 90_000);
});

import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { budgetsFor } from '../main/engine/experiments/baselines.js';
import { compareSearch } from '../main/engine/experiments/compareSearch.js';
import { evolutionSearch } from '../main/engine/experiments/evolution.js';
import { randomSearch } from '../main/engine/experiments/randomSearch.js';
import { randomSubnetStudy } from '../main/engine/experiments/randomSubnets.js';
import { ArchitectureScorer, architectureKey } from '../main/engine/experiments/scorer.js';
import { openTrainedRun } from '../main/engine/experiments/trainedRun.js';
import { defaultSearchConfig } from '../main/engine/pipeline/defaults.js';
import { parseSearchConfig } from '../main/engine/pipeline/config.js';
import { closeSearch, runSearch, type SearchContext } from '../main/engine/pipeline/search.js';
import { flopsM } from '../main/engine/space/costModel.js';
import { scoreArchitecture } from '../main/engine/train/evaluate.js';
import { RunRegistry } from '../main/registry/index.js';
import { runCli, TINY_SEARCH, tinyHome } from './helpers/tinySearch.js';

/** Scoring small enough for tests: 50 validation images, one recalibration batch of 32. */
const SCORING = { validationImages: 50, recalibrationBatches: 1, recalibrationBatchSize: 32 };

let runDir: string;
let ctx: SearchContext;
let scorer: ArchitectureScorer;

beforeAll(async () => {
  // A real search on 128 images: the supernet and generator every test below uses.
  runDir = mkdtempSync(path.join(os.tmpdir(), 'sgnas-exp-'));
  const base = defaultSearchConfig('fmnist');
  const config = parseSearchConfig({
    ...base,
    ...TINY_SEARCH,
    supernet: { ...base.supernet, ...TINY_SEARCH.supernet },
    generator: { ...base.generator, ...TINY_SEARCH.generator },
  });
  await runSearch(config, runDir);
  ctx = await openTrainedRun(runDir, true);
  scorer = new ArchitectureScorer(ctx.supernet, ctx.data.validation, ctx.data.train, SCORING);
});

afterAll(() => closeSearch(ctx));

describe('ArchitectureScorer', () => {
  it('scores like scoreArchitecture on its image subset, and pays once per configuration', () => {
    const arch = { layers: ctx.preset.layers.map(() => ['3x3', '5x5', 'skip', 'skip', 'skip',
      'skip'] as const).map((ops) => [...ops]) };
    const swapped = { layers: arch.layers.map(() => ['5x5', '3x3', 'skip', 'skip', 'skip',
      'skip'] as const).map((ops) => [...ops]) };
    scorer.reset();

    const first = scorer.score(arch);
    // Kernel order among kept sub-blocks is the same configuration: a cache hit.
    const again = scorer.score(swapped);
    const direct = scoreArchitecture(ctx.supernet, arch, scorer.validation, {
      train: ctx.data.train,
      recalibration: { batches: 1, batchSize: 32, seed: 0 },
    });

    expect(scorer.validation.count).toBe(50);
    expect(first).toBe(direct);
    expect(again).toBe(first);
    expect(scorer.evaluationCount).toBe(1);
    expect(architectureKey(swapped)).toBe(architectureKey(arch));
  });
});

describe('random search', () => {
  it('keeps the maximum of what it scored, all under the budget', async () => {
    const budgetM = 1.0;
    const result = await randomSearch(scorer, budgetM, { samples: 6, seed: 3 });

    const accuracies = result.scored.map((s) => s.accuracy);
    expect(result.evaluations).toBe(6);
    expect(result.best.accuracy).toBe(Math.max(...accuracies));
    // The best is the first architecture reaching the maximum.
    expect(result.best).toBe(result.scored[accuracies.indexOf(Math.max(...accuracies))]);
    for (const s of result.scored) {
      expect(s.flopsM).toBe(flopsM(s.architecture, ctx.preset));
      expect(s.flopsM).toBeLessThanOrEqual(budgetM);
    }
    const keys = new Set(result.scored.map((s) => architectureKey(s.architecture)));
    expect(keys.size).toBe(6);
    expect(result.seconds).toBeGreaterThan(0);
  });
});

describe('evolution', () => {
  it('never scores, nor keeps, an architecture over a tight budget', async () => {
    // 0.7 MFLOPs lies near the bottom of the fmnist range (0.4956..1.878): most
    // mutants and crossovers of good parents break it and must be dropped.
    const budgetM = 0.7;
    const result = await evolutionSearch(scorer, budgetM, {
      population: 6, parents: 2, generations: 3, mutationShare: 0.5, mutationRate: 0.5, seed: 1,
    });

    expect(result.best.flopsM).toBeLessThanOrEqual(budgetM);
    for (const s of result.scored) {
      expect(flopsM(s.architecture, ctx.preset)).toBeLessThanOrEqual(budgetM);
    }
    expect(result.evaluations).toBeLessThanOrEqual(18);
    expect(result.evaluations).toBeGreaterThan(6);
    expect(result.best.accuracy).toBe(Math.max(...result.scored.map((s) => s.accuracy)));
    // Parents are the best of all generations so far, so the best never falls.
    const history = result.bestPerGeneration as number[];
    expect(history).toHaveLength(3);
    for (let g = 1; g < history.length; g++) {
      expect(history[g]).toBeGreaterThanOrEqual(history[g - 1]);
    }
  });

  it('refuses more parents than the population', async () => {
    await expect(evolutionSearch(scorer, 1, {
      population: 2, parents: 3, generations: 1, mutationShare: 0.5, mutationRate: 0.1, seed: 1,
    })).rejects.toThrow(/parents \(3\) cannot exceed the population \(2\)/);
  });
});

describe('budgetsFor', () => {
  it('spreads N budgets over the interval, ends included, and one in the middle', () => {
    expect(budgetsFor({ lowM: 1, highM: 2 }, 3)).toEqual([1, 1.5, 2]);
    expect(budgetsFor({ lowM: 1, highM: 2 }, 1)).toEqual([1.5]);
    expect(() => budgetsFor({ lowM: 1, highM: 2 }, 0)).toThrow(/positive integer, got 0/);
  });
});

describe('random-subnet study', () => {
  it('places each generated architecture against the random ones with no more FLOPs', async () => {
    const report = await randomSubnetStudy(ctx, scorer, { samples: 5, budgets: 2, seed: 2 });

    expect(report.random).toHaveLength(5);
    expect(report.generated.map((g) => g.targetM)).toEqual([0.85, 1.5]);
    for (const g of report.generated) {
      const cheaper = report.random.filter((r) => r.flopsM <= g.flopsM);
      // No random architecture as cheap: nothing to compare with, so no share.
      const expected = cheaper.length === 0
        ? undefined
        : cheaper.filter((r) => g.accuracy >= r.accuracy).length / cheaper.length;
      expect(g.beatsShare).toBe(expected);
    }
    const shares = report.generated.flatMap((g) => g.beatsShare ?? []);
    const mean = shares.reduce((s, v) => s + v, 0) / shares.length;
    // The mean is over the budgets that have a share (NaN when none has one).
    expect(report.meanBeatsShare).toEqual(shares.length > 0 ? mean : Number.NaN);
  });
});

describe('compare-search', () => {
  it('reports every method per budget, the baselines within their budgets', async () => {
    const report = await compareSearch({
      budgets: 2,
      runDir,
      trainDir: path.join(runDir, 'unused'),
      config: defaultSearchConfig('fmnist'),
      scoring: SCORING,
      baselines: {
        seed: 0,
        random: { samples: 3 },
        evolution: { population: 3, parents: 1, generations: 2, mutationShare: 0.5,
          mutationRate: 0.3 },
      },
    });

    expect(report.budgetsM).toEqual([0.85, 1.5]);
    for (const method of [report.sgnas, report.random, report.evolution]) {
      expect(method.budgets.map((b) => b.targetM)).toEqual([0.85, 1.5]);
      expect(method.searchSeconds).toBeGreaterThan(0);
    }
    for (const b of [...report.random.budgets, ...report.evolution.budgets]) {
      expect(b.flopsM).toBeLessThanOrEqual(b.targetM);
    }
    expect(report.random.evaluations).toBe(6);
    // No timing file in a folder `sgnas search` wrote: the checkpoints' times are used.
    expect(report.sgnas.timeSource).toBe('checkpoint-times');
    expect(report.sgnas.searchSeconds).toBeCloseTo(
      report.sgnas.generatorTrainSeconds + report.sgnas.generationSeconds, 9);
  });

  it('runs from the CLI, ends with one JSON line and records the run', async () => {
    const { home, db } = tinyHome('sgnas-cmp-');
    const { code, out } = await runCli([
      'compare-search', '--run', runDir, '--budgets', '2', '--samples', '2', '--population', '2',
      '--parents', '1', '--generations', '2', '--validation-images', '20', '--recal-batch-size',
      '16', '--json', '--db', db,
    ], home);

    expect(code, out).toBe(0);
    const summary = JSON.parse(out.trim().split('\n').pop() as string);
    for (const method of ['sgnas', 'random', 'evolution']) {
      expect(Object.keys(summary[method].budgets[0]).sort()).toEqual(['accuracy', 'flopsM',
        'targetM']);
      expect(summary[method].budgets).toHaveLength(2);
      expect(summary[method].searchSeconds).toBeGreaterThan(0);
    }
    const registry = await RunRegistry.open(db);
    try {
      const [run] = await registry.listRuns({ kind: 'compare-search' });
      expect(run.status).toBe('completed');
      // Three methods x two budgets.
      expect(await registry.listArchitectures(run.id)).toHaveLength(6);
      expect((await registry.getMetrics(run.id, { stage: 'random' })).length).toBe(4);
    } finally {
      registry.close();
    }
  });
});

import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { beforeAll, describe, expect, it } from 'vitest';

import { runAblation, type AblationReport } from '../main/engine/experiments/ablation.js';
import { priorPickIndices, priorStudy, PRIOR_RANKS, type PriorStudyReport }
  from '../main/engine/experiments/priorStudy.js';
import { ArchitectureScorer } from '../main/engine/experiments/scorer.js';
import { openTrainedRun } from '../main/engine/experiments/trainedRun.js';
import { parseSearchConfig } from '../main/engine/pipeline/config.js';
import { defaultSearchConfig } from '../main/engine/pipeline/defaults.js';
import { closeSearch } from '../main/engine/pipeline/search.js';
import { parseArchitectureText } from '../main/engine/space/architecture.js';
import { flopsM } from '../main/engine/space/costModel.js';
import { getPreset } from '../main/engine/space/presets.js';
import { RunRegistry } from '../main/registry/index.js';
import { runCli, TINY_SEARCH, tinyHome } from './helpers/tinySearch.js';

/** Scoring small enough for tests: 50 validation images, one recalibration batch of 32. */
const SCORING = { validationImages: 50, recalibrationBatches: 1, recalibrationBatchSize: 32 };
const SCORING_ARGS = ['--validation-images', '50', '--recal-batch-size', '32'];
const fmnist = getPreset('fmnist');

/** 128 training images, one epoch of 4 steps: the schedule every ablation supernet shares. */
const base = defaultSearchConfig('fmnist');
const config = parseSearchConfig({
  ...base,
  ...TINY_SEARCH,
  supernet: { ...base.supernet, ...TINY_SEARCH.supernet, epochs: 1 },
  generator: { ...base.generator, ...TINY_SEARCH.generator },
});
const PRIOR_OPTIONS = { candidates: 4, budgets: 3, seed: 3,
  generator: { epochs: 1, stepsPerEpoch: 2 } };

let ablationDir: string;
let ablation: AblationReport;
let priorDir: string;
let prior: PriorStudyReport;

/** True when some kept sub-block comes after a skipped one (impossible under FS). */
function skipBeforeKept(ops: string): boolean {
  return /-[357]/.test(ops);
}

beforeAll(async () => {
  ablationDir = mkdtempSync(path.join(os.tmpdir(), 'sgnas-ablation-'));
  ablation = await runAblation({ config, dir: ablationDir, samples: 4, seed: 9,
    scoring: SCORING });

  // The prior study runs on the FS+SBN supernet the ablation just trained.
  priorDir = mkdtempSync(path.join(os.tmpdir(), 'sgnas-priors-'));
  const ctx = await openTrainedRun(path.join(ablationDir, 'fs-sbn'), false);
  try {
    const scorer = new ArchitectureScorer(ctx.supernet, ctx.data.validation, ctx.data.train,
      SCORING);
    prior = await priorStudy(ctx, scorer, { ...PRIOR_OPTIONS, dir: priorDir });
  } finally {
    closeSearch(ctx);
  }
}, 120_000);

describe('FS/SBN ablation', () => {
  it('trains the four settings in their own run folders', () => {
    expect(ablation.settings.map((s) => [s.name, s.forcedSampling, s.shadowBatchNorm])).toEqual([
      ['neither', false, false], ['fs', true, false], ['sbn', false, true], ['fs-sbn', true, true],
    ]);
    for (const s of ablation.settings) {
      expect(s.runDir).toBe(path.join(ablationDir, s.name));
      expect(existsSync(path.join(s.runDir, 'config.json'))).toBe(true);
      expect(s.supernetSeconds).toBeGreaterThan(0);
    }
  });

  it('trains FS supernets on paths whose skips are all at the end, the others not', () => {
    for (const s of ablation.settings) {
      // The fair sampler deals one path per expansion rate 2..6.
      expect(s.trainingPaths).toHaveLength(5);
      const layers = s.trainingPaths.flatMap((p) => p.split(' '));
      const scattered = layers.filter(skipBeforeKept).length;
      if (s.forcedSampling) {
        expect(scattered, s.name).toBe(0);
      } else {
        // 5 paths x 19 layers, most with skips placed at random: many land before a kernel.
        expect(scattered, s.name).toBeGreaterThan(10);
      }
    }
  });

  it('gives SBN supernets one projection BN per expansion rate, each with its own statistics',
    async () => {
      expect(ablation.settings.map((s) => s.projectionBatchNorms)).toEqual([1, 1, 5, 5]);

      const ctx = await openTrainedRun(path.join(ablationDir, 'sbn'), false);
      try {
        // Every rate 2..6 trained each step, so each of the 5 BNs moved off its initial
        // mean of 0, and each to its own values (it saw only its own rate's outputs).
        const means = [0, 1, 2, 3, 4].map((j) =>
          Array.from(ctx.supernet.store.get(`layer3/project_bn${j}/mean`).dataSync()));
        for (const m of means) expect(Math.max(...m.map(Math.abs))).toBeGreaterThan(0);
        const distinct = new Set(means.map((m) => m.join(',')));
        expect(distinct.size).toBe(5);
        expect(() => ctx.supernet.store.get('layer3/project_bn/mean')).toThrow();
      } finally {
        closeSearch(ctx);
      }
    });

  it('scores the same K architectures on all four supernets and summarises each', () => {
    expect(ablation.architectures).toHaveLength(4);
    for (const a of ablation.architectures) {
      // Drawn under FS, so valid in every setting.
      expect(skipBeforeKept(a.architecture)).toBe(false);
      const arch = parseArchitectureText(a.architecture, fmnist,
        { forcedSampling: true, minExpansion: 2 });
      expect(a.flopsM).toBeCloseTo(flopsM(arch, fmnist), 12);
    }
    for (const s of ablation.settings) {
      expect(s.points.map((p) => p.architecture)).toEqual(
        ablation.architectures.map((a) => a.architecture));
      const accuracies = s.points.map((p) => p.accuracy);
      const mean = accuracies.reduce((x, y) => x + y, 0) / accuracies.length;
      const sd = Math.sqrt(accuracies.reduce((x, y) => x + (y - mean) ** 2, 0) / 4);
      expect(s.meanAccuracy).toBeCloseTo(mean, 12);
      expect(s.stdAccuracy).toBeCloseTo(sd, 12);
      for (const a of accuracies) expect(a).toBeGreaterThanOrEqual(0);
    }
    // Four settings: six pairs, each tau-b in [-1, 1] (or null for a constant series).
    expect(ablation.kendallTau).toHaveLength(6);
    for (const t of ablation.kendallTau) {
      if (t.tau !== null) expect(Math.abs(t.tau)).toBeLessThanOrEqual(1);
    }
  });

  it('resumes from its folder through the CLI and records an ablation run', async () => {
    const { home, db, configFile } = tinyHome('sgnas-abl-cli-');
    // Same data, schedule and seeds as above: every supernet is already trained.
    const { code, out } = await runCli(['ablation', '--config', configFile, '--supernet-epochs',
      '1', '--samples', '4', '--sample-seed', '9', '--out', ablationDir, ...SCORING_ARGS,
      '--db', db, '--json'], home);

    expect(code, out).toBe(0);
    expect(out).toContain('resumed after epoch 1');
    const summary = JSON.parse(out.trim().split('\n').pop() as string);
    expect(summary.settings.map((s: { meanAccuracy: number }) => s.meanAccuracy)).toEqual(
      ablation.settings.map((s) => s.meanAccuracy));

    const registry = await RunRegistry.open(db);
    try {
      const [run] = await registry.listRuns({ kind: 'ablation' });
      expect(run.status).toBe('completed');
      // Four settings x four architectures.
      expect(await registry.listArchitectures(run.id)).toHaveLength(16);
      expect(await registry.getMetrics(run.id, { stage: 'fs-sbn' })).toHaveLength(4);
      const file = path.join(registry.runFolder(run.id), 'results', 'experiment.json');
      expect(JSON.parse(readFileSync(file, 'utf8')).settings).toHaveLength(4);
    } finally {
      registry.close();
    }
  }, 60_000);
});

describe('prior study', () => {
  it('picks the worst, the two at the thirds and the best candidates', () => {
    expect(priorPickIndices(4)).toEqual([0, 1, 2, 3]);
    expect(priorPickIndices(12)).toEqual([0, 4, 7, 11]);
    expect(() => priorPickIndices(3)).toThrow(/at least 4, got 3/);
  });

  it('orders its four priors by their recorded supernet accuracies', () => {
    expect(prior.priors.map((p) => p.rank)).toEqual([...PRIOR_RANKS]);
    const candidates = prior.candidates.map((c) => c.accuracy);
    expect(candidates).toEqual([...candidates].sort((a, b) => a - b));
    const picked = prior.priors.map((p) => p.prior.accuracy);
    expect(picked).toEqual([...picked].sort((a, b) => a - b));
    expect(prior.priors[0].prior).toEqual(prior.candidates[0]);
    expect(prior.priors[3].prior).toEqual(prior.candidates[3]);
    expect(new Set(prior.priors.map((p) => p.prior.seed)).size).toBe(4);
  });

  it('generates, from every prior, architectures inside the FLOPs range at the same budgets',
    () => {
      const { minM, maxM } = prior.flopsRangeM;
      expect(prior.budgetsM).toHaveLength(3);
      for (const p of prior.priors) {
        expect(p.budgets.map((b) => b.targetM)).toEqual(prior.budgetsM);
        for (const b of p.budgets) {
          const arch = parseArchitectureText(b.architecture, fmnist,
            { forcedSampling: true, minExpansion: 2 });
          expect(b.flopsM).toBeCloseTo(flopsM(arch, fmnist), 12);
          expect(b.flopsM).toBeGreaterThanOrEqual(minM);
          expect(b.flopsM).toBeLessThanOrEqual(maxM);
        }
        expect(existsSync(path.join(p.runDir, 'checkpoints'))).toBe(true);
      }
    });

  it('resumes its generators through the CLI and records a prior-study run', async () => {
    const { home, db } = tinyHome('sgnas-prior-cli-');
    const { code, out } = await runCli(['prior-study', '--run', path.join(ablationDir, 'fs-sbn'),
      '--candidates', '4', '--budgets', '3', '--seed', '3', '--generator-epochs', '1',
      '--generator-steps', '2', '--out', priorDir, ...SCORING_ARGS, '--db', db, '--json'], home);

    expect(code, out).toBe(0);
    const summary = JSON.parse(out.trim().split('\n').pop() as string);
    // Resumed from the same checkpoints: the same generators, so the same picks.
    expect(summary.priors.map((p: { budgets: { flopsM: number }[] }) =>
      p.budgets.map((b) => b.flopsM))).toEqual(
      prior.priors.map((p) => p.budgets.map((b) => b.flopsM)));

    const registry = await RunRegistry.open(db);
    try {
      const [run] = await registry.listRuns({ kind: 'prior-study' });
      expect(run.status).toBe('completed');
      // Four priors x three budgets, each with its budget.
      const rows = await registry.listArchitectures(run.id);
      expect(rows).toHaveLength(12);
      expect(await registry.getMetrics(run.id, { stage: 'candidates' })).toHaveLength(4);
    } finally {
      registry.close();
    }
  }, 60_000);
});

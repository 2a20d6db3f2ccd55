/**
 * The search-cost comparison of the paper's Table 1: for N budgets, SGNAS
 * (the generator trained once, then one forward pass for all N budgets)
 * against random search and evolution (one search per budget each), all on
 * the same supernet and scored by the same ArchitectureScorer.
 *
 * Search time counts what each method spends after the supernet is trained
 * (the supernet is shared by all three, so its training is reported apart):
 * SGNAS pays its generator training and its generation; a baseline pays its
 * sampling and every supernet evaluation of every budget. Scoring SGNAS's
 * picks for the report is not part of its search.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

import type { SearchConfig } from '../pipeline/config.js';
import { checkBudgets } from '../pipeline/generate.js';
import { runPaths, writeFileAtomic, writeRunConfig } from '../pipeline/runFolder.js';
import {
  buildPrior,
  closeSearch,
  openSearch,
  runGeneratorStage,
  runSupernetStage,
  runSweepStage,
  type SearchContext,
} from '../pipeline/search.js';
import { formatArchitecture } from '../space/architecture.js';
import { latestCheckpoint } from '../train/checkpoint.js';
import {
  budgetsFor,
  runBaselines,
  type BaselineMethod,
} from './baselines.js';
import type { BaselineResult } from './baselineTypes.js';
import type { ExperimentHooks } from './hooks.js';
import { ArchitectureScorer } from './scorer.js';
import type {
  BaselineSettings,
  BudgetPick,
  CompareSearchReport,
  ScoringOptions,
  TimeSource,
} from './reports.js';
import { openTrainedRun } from './trainedRun.js';

export type { BudgetPick, CompareSearchReport, MethodReport, TimeSource } from './reports.js';

/** What the comparison needs. */
export interface CompareSearchOptions {
  /** N: budgets spread over the constraint interval. */
  budgets: number;
  /** A run folder `sgnas search` trained; when absent one is trained in trainDir. */
  runDir?: string;
  /** Where a run folder is trained when runDir is absent. */
  trainDir: string;
  /** The configuration to train with (ignored when runDir is given). */
  config: SearchConfig;
  scoring: Partial<ScoringOptions>;
  baselines: BaselineSettings;
}

/** The stage times a run folder keeps (results/stage-seconds.json). */
interface StageSeconds {
  supernetSeconds: number;
  generatorSeconds: number;
}

const stageSecondsFile = (runDir: string) =>
  path.join(runPaths(runDir).results, 'stage-seconds.json');

function readStageSeconds(runDir: string): StageSeconds | null {
  const file = stageSecondsFile(runDir);
  if (!existsSync(file)) return null;
  const value = JSON.parse(readFileSync(file, 'utf8')) as StageSeconds;
  return Number.isFinite(value.generatorSeconds) ? value : null;
}

/**
 * The generator's training time of a folder trained without a record of it:
 * from the end of supernet training (its newest checkpoint) to the newest
 * generator checkpoint. Right for a search that ran without a break.
 */
async function checkpointSeconds(runDir: string): Promise<number> {
  const root = runPaths(runDir).checkpoints;
  const supernet = await latestCheckpoint(root, 'supernet');
  const generator = await latestCheckpoint(root, 'generator');
  if (!supernet || !generator) {
    throw new Error(`${runDir} lacks a trained supernet or generator: run \`sgnas search\` first`);
  }
  const end = (dir: string) => statSync(path.join(dir, 'params.json')).mtimeMs;
  return Math.max(end(generator) - end(supernet), 0) / 1000;
}

/** Trains a run folder (supernet, then generator), timing each stage. */
async function trainRunFolder(
  dir: string,
  config: SearchConfig,
  hooks: ExperimentHooks,
): Promise<{ ctx: SearchContext; seconds: StageSeconds }> {
  writeRunConfig(dir, config);
  const ctx = await openSearch(config, dir, {
    log: hooks.log,
    signal: hooks.signal,
    onProgress: (p) => hooks.onProgress?.(p.fraction * 0.5, `sgnas-${p.stage}`),
  });
  try {
    let started = performance.now();
    await runSupernetStage(ctx);
    const supernetSeconds = (performance.now() - started) / 1000;

    started = performance.now();
    await runGeneratorStage(ctx, buildPrior(ctx));
    const seconds = { supernetSeconds, generatorSeconds: (performance.now() - started) / 1000 };
    writeFileAtomic(stageSecondsFile(dir), `${JSON.stringify(seconds, null, 2)}\n`);
    return { ctx, seconds };
  } catch (err) {
    closeSearch(ctx);
    throw err;
  }
}

/** The trained networks and how long the generator took to train. */
async function sgnasNetworks(options: CompareSearchOptions, hooks: ExperimentHooks) {
  const reuse = options.runDir ?? (readStageSeconds(options.trainDir) ? options.trainDir : null);
  if (reuse) {
    const ctx = await openTrainedRun(reuse, true, { log: hooks.log, signal: hooks.signal });
    const recorded = readStageSeconds(reuse);
    return {
      ctx,
      generatorSeconds: recorded?.generatorSeconds ?? (await checkpointSeconds(reuse)),
      supernetSeconds: recorded?.supernetSeconds ?? null,
      timeSource: (recorded ? 'recorded' : 'checkpoint-times') as TimeSource,
    };
  }

  hooks.log?.(`[compare] training a run folder in ${options.trainDir}`);
  const { ctx, seconds } = await trainRunFolder(options.trainDir, options.config, hooks);
  return {
    ctx,
    generatorSeconds: seconds.generatorSeconds,
    supernetSeconds: seconds.supernetSeconds,
    timeSource: 'measured' as TimeSource,
  };
}

function picksOf(results: readonly BaselineResult[]): BudgetPick[] {
  return results.map((r) => ({
    targetM: r.budgetM,
    flopsM: r.best.flopsM,
    accuracy: r.best.accuracy,
    architecture: formatArchitecture(r.best.architecture),
  }));
}

/**
 * Runs the comparison.
 *
 * @returns per method its total search seconds and, per budget, the FLOPs
 *   and supernet accuracy it found.
 * @throws RangeError for a budget count below 1; the errors of the stages.
 */
export async function compareSearch(
  options: CompareSearchOptions,
  hooks: ExperimentHooks = {},
): Promise<CompareSearchReport> {
  const nets = await sgnasNetworks(options, hooks);
  const { ctx } = nets;
  try {
    const budgetsM = budgetsFor(ctx.constraint, options.budgets);
    checkBudgets(budgetsM, ctx.preset, ctx.options);
    const scorer = new ArchitectureScorer(
      ctx.supernet, ctx.data.validation, ctx.data.train, options.scoring,
    );

    const started = performance.now();
    const generated = await runSweepStage(ctx, buildPrior(ctx), budgetsM, false);
    const generationSeconds = (performance.now() - started) / 1000;
    const sgnasBudgets = generated.results.map((r) => ({
      targetM: r.targetM,
      flopsM: r.flopsM,
      accuracy: scorer.score(r.architecture),
      architecture: formatArchitecture(r.architecture),
    }));
    for (const [i, b] of sgnasBudgets.entries()) {
      hooks.onMetrics?.([
        { stage: 'sgnas', epoch: i, step: 0, name: 'accuracy', value: b.accuracy },
      ]);
    }
    hooks.log?.(
      `[compare] sgnas: generator ${nets.generatorSeconds.toFixed(1)} s (${nets.timeSource}) + ` +
        `generation ${generationSeconds.toFixed(3)} s for ${budgetsM.length} budgets`,
    );

    const baseline = async (method: BaselineMethod, from: number) =>
      runBaselines(scorer, method, budgetsM, options.baselines, {
        log: hooks.log,
        signal: hooks.signal,
        onEvaluation: (_m, budgetIndex, index, planned, scored) => {
          const value = scored.accuracy;
          const point = { stage: method, epoch: budgetIndex, step: index, name: 'accuracy' };
          hooks.onMetrics?.([{ ...point, value }]);
          const done = (budgetIndex + index / planned) / budgetsM.length;
          hooks.onProgress?.(from + 0.25 * Math.min(done, 1), method);
        },
      });
    const random = await baseline('random', 0.5);
    const evolution = await baseline('evolution', 0.75);
    const total = (rs: BaselineResult[]) => rs.reduce((sum, r) => sum + r.seconds, 0);
    const evaluations = (rs: BaselineResult[]) => rs.reduce((sum, r) => sum + r.evaluations, 0);

    return {
      sgnas: {
        searchSeconds: nets.generatorSeconds + generationSeconds,
        generatorTrainSeconds: nets.generatorSeconds,
        generationSeconds,
        timeSource: nets.timeSource,
        budgets: sgnasBudgets,
      },
      random: {
        searchSeconds: total(random),
        evaluations: evaluations(random),
        budgets: picksOf(random),
      },
      evolution: {
        searchSeconds: total(evolution),
        evaluations: evaluations(evolution),
        budgets: picksOf(evolution),
      },
      budgetsM,
      runDir: ctx.runDir,
      supernetTrainSeconds: nets.supernetSeconds,
      backend: ctx.backend.name,
      scoring: { ...scorer.options, validationCount: scorer.validation.count },
      baselines: options.baselines,
    };
  } finally {
    closeSearch(ctx);
  }
}

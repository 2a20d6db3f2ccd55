/**
 * The whole SGNAS search as stages over one run folder: train the unified
 * supernet, train the architecture generator on it, then generate one
 * architecture per budget of a sweep in a single forward pass and judge how
 * well their FLOPs follow the budgets. Every stage resumes from the newest
 * checkpoint in the folder, so a killed run continues where it stopped.
 */
import { existsSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

import { initBackend, type BackendInfo } from '../backend.js';
import { ArchitectureGenerator } from '../nn/generator.js';
import { Supernet } from '../nn/supernet.js';
import { parseArchitectureText, formatArchitecture } from '../space/architecture.js';
import { flopsRangeM } from '../space/costModel.js';
import { getPreset } from '../space/presets.js';
import { PriorPool, randomPrior } from '../space/priors.js';
import type { Architecture, Preset, SpaceOptions } from '../space/types.js';
import { latestCheckpoint, loadCheckpoint } from '../train/checkpoint.js';
import { GENERATOR_CHECKPOINT, trainGenerator } from '../train/generatorTrainer.js';
import { trainSupernet } from '../train/supernetTrainer.js';
import type { SearchConfig } from './config.js';
import { loadSearchData, type SearchData } from './data.js';
import {
  evaluateSweep,
  generateArchitectures,
  sweepBudgets,
  type GeneratedArchitecture,
  type SweepEvaluation,
} from './generate.js';
import { runPaths, writeRunConfig } from './runFolder.js';
import { writeSearchResults, type SearchSummary } from './results.js';

/** One progress event of any stage, with the share of the whole run done. */
export interface SearchProgress {
  stage: 'supernet' | 'generator' | 'sweep';
  epoch: number;
  epochs: number;
  step: number;
  steps: number;
  loss?: number;
  accuracy?: number;
  elapsedSec: number;
  etaSec: number;
  /** 0..1 over the whole run (stages weighted by their usual share of time). */
  fraction: number;
  /** Seconds left in the whole run, extrapolated from its progress so far. */
  runEtaSec?: number;
  extra?: Record<string, number>;
}

/** What a caller can watch and control. */
export interface SearchHooks {
  onProgress?: (event: SearchProgress) => void;
  /** One line per event worth logging (stage start, checkpoint, results). */
  log?: (line: string) => void;
  signal?: AbortSignal;
  /** Called once the backend is chosen, before any training. */
  onBackend?: (backend: BackendInfo) => void | Promise<void>;
}

/** Share of the run's time each stage usually takes, for the overall fraction. */
const STAGE_SPAN = { supernet: [0, 0.6], generator: [0.6, 0.92], sweep: [0.92, 1] } as const;

/** Everything the stages share. */
export interface SearchContext {
  config: SearchConfig;
  runDir: string;
  preset: Preset;
  options: SpaceOptions;
  constraint: { lowM: number; highM: number };
  backend: BackendInfo;
  data: SearchData;
  supernet: Supernet;
  generator: ArchitectureGenerator;
  hooks: SearchHooks;
  /** performance.now() when this process opened the search. */
  startedAt: number;
  /** The run's fraction done at its first progress event in this process. */
  startFraction?: number;
}

/** The space options a configuration asks for. */
export function spaceOptionsOf(config: SearchConfig): SpaceOptions {
  return { forcedSampling: config.forcedSampling, minExpansion: config.minExpansion };
}

/**
 * The constraint interval of a run, checked against what the space can reach.
 *
 * @throws RangeError when the interval leaves the preset's FLOPs range.
 */
export function constraintOf(
  config: SearchConfig,
  preset: Preset,
): { lowM: number; highM: number } {
  const constraint = config.constraint ?? preset.constraint;
  const { minM, maxM } = flopsRangeM(preset, spaceOptionsOf(config));
  if (constraint.lowM < minM || constraint.highM > maxM) {
    throw new RangeError(
      `constraint interval ${constraint.lowM}..${constraint.highM} MFLOPs leaves preset ` +
        `'${preset.name}' FLOPs range ${minM.toFixed(4)}..${maxM.toFixed(4)} MFLOPs: ` +
        'choose an interval inside it',
    );
  }
  return constraint;
}

/**
 * Builds the networks, loads the data and picks the backend: everything a
 * stage needs. Networks start from their seeded initialisation; the stages
 * load checkpoints.
 */
export async function openSearch(
  config: SearchConfig,
  runDir: string,
  hooks: SearchHooks = {},
): Promise<SearchContext> {
  const preset = getPreset(config.preset);
  const options = spaceOptionsOf(config);
  const constraint = constraintOf(config, preset);
  const backend = await initBackend(config.backend);
  const data = loadSearchData(config);

  const supernet = new Supernet(preset, data.classes, {
    ...options,
    shadowBatchNorm: config.shadowBatchNorm,
    seed: config.seed,
  });
  const generator = new ArchitectureGenerator(preset.layers.length, config.seed + 7, options);

  return {
    config, runDir, preset, options, constraint, backend, data, supernet, generator, hooks,
    startedAt: performance.now(),
  };
}

/** Releases the networks' tensors. */
export function closeSearch(ctx: SearchContext): void {
  ctx.supernet.store.dispose();
  ctx.generator.store.dispose();
}

/**
 * The prior the generator is fed: one architecture for every target, or a
 * pool of priors spread over the constraint interval.
 */
export function buildPrior(
  ctx: Pick<SearchContext, 'config' | 'preset' | 'options' | 'constraint'>,
): Architecture | PriorPool {
  const prior = ctx.config.prior;
  if (prior.kind === 'random') return randomPrior(ctx.preset, ctx.options, prior.seed);

  if (prior.kind === 'architecture') {
    return parseArchitectureText(prior.text, ctx.preset, ctx.options);
  }

  const targets = sweepBudgets(ctx.constraint, Math.max(prior.size, 2));
  return PriorPool.build(ctx.preset, ctx.options, targets, { seed: prior.seed });
}

function emit(ctx: SearchContext, event: Omit<SearchProgress, 'fraction'>): void {
  const [from, to] = STAGE_SPAN[event.stage];
  const done = ((event.epoch - 1) * event.steps + event.step) / (event.epochs * event.steps);
  const fraction = from + (to - from) * Math.min(done, 1);

  // Extrapolate over the fraction done since this process started, so a
  // resumed run's skipped stages do not count as fast work.
  ctx.startFraction ??= fraction;
  const elapsedSec = (performance.now() - ctx.startedAt) / 1000;
  const progressed = fraction - ctx.startFraction;
  const runEtaSec = progressed > 0.01 ? (elapsedSec * (1 - fraction)) / progressed : undefined;
  ctx.hooks.onProgress?.({ ...event, fraction, runEtaSec });
}

/** Stage 1: trains the supernet with fair sampling (resuming if possible). */
export async function runSupernetStage(ctx: SearchContext): Promise<void> {
  const { config, supernet } = ctx;
  ctx.hooks.log?.(
    `[supernet] ${supernet.paramCount()} parameters, ${ctx.data.train.count} training ` +
      `images, ${config.supernet.epochs} epochs of batch ${config.supernet.batchSize}`,
  );

  const result = await trainSupernet(
    supernet,
    ctx.data.train,
    {
      ...config.supernet,
      seed: config.seed,
      checkpointDir: runPaths(ctx.runDir).checkpoints,
      resume: true,
    },
    {
      signal: ctx.hooks.signal,
      log: ctx.hooks.log,
      onProgress: (p) => emit(ctx, { ...p, extra: { lr: p.lr } }),
      onEpochEnd: (s) =>
        ctx.hooks.log?.(
          `[supernet] epoch ${s.epoch} done: loss ${s.loss.toFixed(4)}, train acc ` +
            `${(s.accuracy * 100).toFixed(1)}%, ${s.seconds.toFixed(1)} s`,
        ),
    },
  );
  if (result.resumedFromEpoch > 0) {
    ctx.hooks.log?.(`[supernet] resumed after epoch ${result.resumedFromEpoch}`);
  }
}

/** Stage 2: trains the generator against the frozen supernet (resuming if possible). */
export async function runGeneratorStage(ctx: SearchContext, prior: Architecture | PriorPool) {
  const { config } = ctx;
  ctx.hooks.log?.(
    `[generator] ${ctx.generator.parameterCount()} parameters, constraint ` +
      `${ctx.constraint.lowM}..${ctx.constraint.highM} MFLOPs, lambda ${config.generator.lambda}`,
  );

  await trainGenerator(
    ctx.generator,
    ctx.supernet,
    { validation: ctx.data.validation },
    { ...config.generator, constraint: ctx.constraint, seed: config.seed, prior },
    {
      signal: ctx.hooks.signal,
      checkpointDir: runPaths(ctx.runDir).checkpoints,
      resume: true,
      log: ctx.hooks.log,
      onProgress: (p) =>
        emit(ctx, {
          stage: 'generator',
          epoch: p.epoch + 1,
          epochs: p.epochs,
          step: p.step + 1,
          steps: p.steps,
          loss: p.loss,
          elapsedSec: p.elapsedSec,
          etaSec: p.etaSec,
          extra: { ce: p.ce, cost: p.costLoss, errM: p.costErrorM, tau: p.tau },
        }),
    },
  );
}

/**
 * Loads the newest generator (and, for scoring, supernet) weights of a
 * trained run folder. A shipped generator folder has no supernet: generate
 * from it without scoring.
 */
export async function loadTrainedNetworks(ctx: SearchContext, withSupernet = true) {
  const root = runPaths(ctx.runDir).checkpoints;
  const generatorDir = await latestCheckpoint(root, GENERATOR_CHECKPOINT);
  const supernetDir = withSupernet ? await latestCheckpoint(root, 'supernet') : null;
  if (!generatorDir || (withSupernet && !supernetDir)) {
    const missing = generatorDir ? 'supernet' : 'generator';
    const hint = generatorDir ? ' (or pass --no-score to generate without accuracies)' : '';
    throw new Error(
      `${ctx.runDir} has no trained ${missing} checkpoint: run \`sgnas search\` (or its ` +
        `stages) on this folder first${hint}`,
    );
  }
  if (supernetDir) await loadCheckpoint(supernetDir, { store: ctx.supernet.store });
  await loadCheckpoint(generatorDir, { store: ctx.generator.store });
}

/** Stage 3: one forward pass for every budget of the sweep, scored on the supernet. */
export async function runSweepStage(
  ctx: SearchContext,
  prior: Architecture | PriorPool,
  budgetsM: number[] = sweepBudgets(ctx.constraint, ctx.config.sweepBudgets),
  score = true,
): Promise<{ results: GeneratedArchitecture[]; sweep: SweepEvaluation; forwardMs: number }> {
  const started = performance.now();
  const generation = await generateArchitectures(
    ctx.generator,
    ctx.preset,
    ctx.options,
    budgetsM,
    prior,
    {
      supernet: ctx.supernet,
      validation: ctx.data.validation,
      scoreAccuracy: score,
      constraint: ctx.constraint,
      score: {
        train: ctx.data.train,
        recalibration: {
          batches: Math.max(ctx.config.recalibrationBatches, 1),
          batchSize: 128,
          seed: 0,
        },
      },
    },
  );
  emit(ctx, {
    stage: 'sweep',
    epoch: 1,
    epochs: 1,
    step: 1,
    steps: 1,
    elapsedSec: (performance.now() - started) / 1000,
    etaSec: 0,
  });

  return { ...generation, sweep: evaluateSweep(generation.results) };
}

/**
 * Writes a sweep's results into the run folder.
 *
 * @param startedMs performance.now() when the work being reported began.
 */
export function writeSweepResults(
  ctx: SearchContext,
  sweep: Awaited<ReturnType<typeof runSweepStage>>,
  startedMs: number,
): SearchSummary {
  return writeSearchResults(ctx.runDir, {
    backend: ctx.backend.name,
    wallSeconds: (performance.now() - startedMs) / 1000,
    generationMs: sweep.forwardMs,
    sweep: sweep.sweep,
    results: sweep.results,
    preset: ctx.preset,
  });
}

/**
 * Runs (or resumes) the whole search in `runDir` and writes its results.
 *
 * @returns the summary also written to results/summary.json.
 */
export async function runSearch(
  config: SearchConfig,
  runDir: string,
  hooks: SearchHooks = {},
): Promise<SearchSummary> {
  const started = performance.now();
  writeRunConfig(runDir, config);
  const ctx = await openSearch(config, runDir, hooks);
  await hooks.onBackend?.(ctx.backend);
  hooks.log?.(
    `backend ${ctx.backend.name}; data ${ctx.data.source} (${ctx.data.dir}): ` +
      `${ctx.data.train.count} train, ${ctx.data.validation.count} validation images`,
  );

  try {
    await runSupernetStage(ctx);
    const prior = buildPrior(ctx);
    await runGeneratorStage(ctx, prior);
    const summary = writeSweepResults(ctx, await runSweepStage(ctx, prior), started);
    hooks.log?.(`results written to ${runPaths(runDir).results}`);
    return summary;
  } finally {
    closeSearch(ctx);
  }
}

export { formatArchitecture };

/**
 * Checks a configuration against its search space before any work starts:
 * the preset exists, the constraint interval lies inside the space's FLOPs
 * range, and a given prior architecture is valid.
 *
 * @throws an error naming the problem and the fix.
 */
export function checkSearchConfig(config: SearchConfig): void {
  const preset = getPreset(config.preset);
  constraintOf(config, preset);
  if (config.dataDir !== undefined && !existsSync(config.dataDir)) {
    throw new Error(
      `data folder ${config.dataDir} does not exist: pass a folder holding MNIST-family IDX ` +
        'files or CIFAR-10 binaries, or leave --data out for the default dataset',
    );
  }
  const { trainSubset, batchSize } = config.supernet;
  if (trainSubset !== undefined && trainSubset < batchSize) {
    throw new Error(
      `supernet.trainSubset ${trainSubset} cannot fill one batch of ${batchSize}: raise it ` +
        'or lower the batch size',
    );
  }
  if (config.prior.kind === 'architecture') {
    parseArchitectureText(config.prior.text, preset, spaceOptionsOf(config));
  }
}

/**
 * The FS/SBN ablation of the paper's Fig 6a: four supernets trained on the
 * same data with the same schedule and seed, one per setting (neither, FS,
 * SBN, both), then the same K random architectures scored on each. A setting
 * that trains its supernet better lifts the whole accuracy-vs-FLOPs cloud.
 *
 * Each supernet lives in its own sub-folder (`<dir>/<setting>`), written as a
 * run folder, so an interrupted ablation resumes from the checkpoints and a
 * sub-folder can be opened by the other experiments (--run).
 */
import path from 'node:path';
import { performance } from 'node:perf_hooks';

import { Rng } from '../rng.js';
import { kendallTauB } from '../stats.js';
import type { SearchConfig } from '../pipeline/config.js';
import { runPaths, writeRunConfig } from '../pipeline/runFolder.js';
import { closeSearch, openSearch, runSupernetStage, type SearchContext }
  from '../pipeline/search.js';
import { formatArchitecture } from '../space/architecture.js';
import { flopsM } from '../space/costModel.js';
import { getPreset } from '../space/presets.js';
import { FairSampler, randomArchitecture, type FairSamplerState } from '../space/sampling.js';
import type { Architecture, Preset } from '../space/types.js';
import { latestCheckpoint, loadCheckpoint } from '../train/checkpoint.js';
import { yieldToEventLoop } from '../train/eventLoop.js';
import { SearchCancelledError } from './baselineTypes.js';
import type { ExperimentHooks } from './hooks.js';
import { ArchitectureScorer } from './scorer.js';
import type {
  AblationPoint,
  AblationReport,
  AblationSetting,
  AblationSettingReport,
  ScoringOptions,
  SettingsTau,
} from './reports.js';

export type {
  AblationPoint,
  AblationReport,
  AblationSetting,
  AblationSettingReport,
  SettingsTau,
} from './reports.js';

/** The four settings of Fig 6a, in the paper's order. */
export const ABLATION_SETTINGS: readonly AblationSetting[] = [
  { name: 'neither', forcedSampling: false, shadowBatchNorm: false },
  { name: 'fs', forcedSampling: true, shadowBatchNorm: false },
  { name: 'sbn', forcedSampling: false, shadowBatchNorm: true },
  { name: 'fs-sbn', forcedSampling: true, shadowBatchNorm: true },
];

/**
 * CPU defaults for the fmnist preset (2 shared cores, wasm), laid over the
 * preset's search defaults. Measured there: a supernet trains at about 40 ms
 * an image (1,024 images in 41 s) and an architecture scores in 0.32 s with
 * DEFAULT_SCORING, so four supernets of 2,560 images and 4 x 30 scores take
 * about 7.5 minutes. After 1,024 images the supernet already tells
 * architectures apart (10.5..17.5% on 8 of them); after 256 it does not.
 */
export const CPU_ABLATION = {
  samples: 30,
  supernet: { epochs: 1, trainSubset: 2560, batchSize: 64 },
} as const;

export interface AblationOptions {
  /**
   * Data, schedule, seed and space of every supernet; its forcedSampling and
   * shadowBatchNorm are replaced by each setting's.
   */
  config: SearchConfig;
  /** Folder of the four sub-folders (reuse it to resume). */
  dir: string;
  /** K: random architectures scored on every supernet. */
  samples: number;
  /** Seed of the K architectures. */
  seed: number;
  scoring: Partial<ScoringOptions>;
}

/**
 * The K shared architectures. Drawn with FS on: an FS-valid architecture is
 * valid without FS too (its skips are simply among the allowed positions),
 * so every setting's supernet can run all of them.
 */
export function ablationArchitectures(
  config: SearchConfig,
  preset: Preset,
  samples: number,
  seed: number,
): Architecture[] {
  if (!Number.isInteger(samples) || samples < 2) {
    throw new RangeError(
      `the ablation needs samples >= 2 architectures (for tau), got ${samples}`,
    );
  }
  const rng = new Rng(seed);
  const options = { forcedSampling: true, minExpansion: config.minExpansion };
  return Array.from({ length: samples }, () => randomArchitecture(preset, options, rng));
}

function meanStd(values: readonly number[]): { mean: number; std: number } {
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  const variance = values.reduce((s, v) => s + (v - mean) ** 2, 0) / values.length;
  return { mean, std: Math.sqrt(variance) };
}

/** The fair sampler's next batch, continued from the newest checkpoint's saved state. */
async function trainingPaths(ctx: SearchContext): Promise<string[]> {
  const dir = await latestCheckpoint(runPaths(ctx.runDir).checkpoints, 'supernet');
  if (!dir) throw new Error(`${ctx.runDir} has no supernet checkpoint after training`);
  const state = await loadCheckpoint<{ fairSampler: FairSamplerState }>(dir,
    { store: ctx.supernet.store });
  const sampler = new FairSampler(ctx.preset, ctx.supernet.options, new Rng(0));
  sampler.setState(state.fairSampler);
  return sampler.nextBatch().map(formatArchitecture);
}

/** Trains (or resumes) one setting's supernet and scores the shared architectures on it. */
async function runSetting(
  setting: AblationSetting,
  index: number,
  archs: readonly Architecture[],
  options: AblationOptions,
  hooks: ExperimentHooks,
): Promise<{ report: AblationSettingReport; ctx: SearchContext; scorer: ArchitectureScorer }> {
  const share = 1 / ABLATION_SETTINGS.length;
  const config: SearchConfig = { ...options.config, forcedSampling: setting.forcedSampling,
    shadowBatchNorm: setting.shadowBatchNorm };
  const runDir = path.join(options.dir, setting.name);
  writeRunConfig(runDir, config);
  const ctx = await openSearch(config, runDir, {
    log: hooks.log,
    signal: hooks.signal,
    // The supernet stage spans 0..0.6 of a search; here it is 0.8 of a setting.
    onProgress: (p) => hooks.onProgress?.(share * (index + (p.fraction / 0.6) * 0.8),
      `${setting.name}-supernet`),
  });
  try {
    const started = performance.now();
    hooks.log?.(`[ablation] ${setting.name}: FS ${setting.forcedSampling ? 'on' : 'off'}, ` +
      `SBN ${setting.shadowBatchNorm ? 'on' : 'off'}, folder ${runDir}`);
    await runSupernetStage(ctx);
    const supernetSeconds = (performance.now() - started) / 1000;

    const paths = await trainingPaths(ctx);
    const scorer = new ArchitectureScorer(ctx.supernet, ctx.data.validation, ctx.data.train,
      options.scoring);
    const points: AblationPoint[] = [];
    for (const [i, arch] of archs.entries()) {
      if (hooks.signal?.aborted) throw new SearchCancelledError(`ablation ${setting.name}`, 0, i);
      const accuracy = scorer.score(arch);
      points.push({ flopsM: flopsM(arch, ctx.preset), accuracy,
        architecture: formatArchitecture(arch) });
      hooks.onMetrics?.([{ stage: setting.name, epoch: 0, step: i + 1, name: 'accuracy',
        value: accuracy }]);
      hooks.onProgress?.(share * (index + 0.8 + (0.2 * (i + 1)) / archs.length),
        `${setting.name}-scoring`);
      await yieldToEventLoop();
    }

    const { mean, std } = meanStd(points.map((p) => p.accuracy));
    hooks.log?.(`[ablation] ${setting.name}: mean supernet accuracy ${(mean * 100).toFixed(2)}% ` +
      `(sd ${(std * 100).toFixed(2)}) over ${points.length} architectures; training ` +
      `${supernetSeconds.toFixed(1)} s, scoring ${scorer.seconds.toFixed(1)} s`);
    const report: AblationSettingReport = {
      ...setting, runDir, supernetSeconds, points, meanAccuracy: mean, stdAccuracy: std,
      projectionBatchNorms: ctx.supernet.blocks[0]?.projectionBatchNormCount ?? 0,
      trainingPaths: paths, scoringSeconds: scorer.seconds,
    };
    return { report, ctx, scorer };
  } catch (err) {
    closeSearch(ctx);
    throw err;
  }
}

/** Kendall tau-b for every pair of settings. */
function pairwiseTau(settings: readonly AblationSettingReport[]): SettingsTau[] {
  const taus: SettingsTau[] = [];
  for (let i = 0; i < settings.length; i++) {
    for (let j = i + 1; j < settings.length; j++) {
      const a = settings[i].points.map((p) => p.accuracy);
      const b = settings[j].points.map((p) => p.accuracy);
      const tau = kendallTauB(a, b).value ?? null;
      taus.push({ a: settings[i].name, b: settings[j].name, tau });
    }
  }
  return taus;
}

/**
 * Runs the ablation: the four supernets one after another (each resumed from
 * its sub-folder's checkpoints when present), the same K architectures
 * scored on each with the same scoring images.
 *
 * @throws RangeError for samples < 2; SearchCancelledError or the trainer's
 *   cancellation error on abort; the stages' errors.
 */
export async function runAblation(
  options: AblationOptions,
  hooks: ExperimentHooks = {},
): Promise<AblationReport> {
  const preset = getPreset(options.config.preset);
  const archs = ablationArchitectures(options.config, preset, options.samples, options.seed);
  const settings: AblationSettingReport[] = [];
  let last: { ctx: SearchContext; scorer: ArchitectureScorer } | null = null;

  try {
    for (const [index, setting] of ABLATION_SETTINGS.entries()) {
      // One supernet in memory at a time.
      if (last) closeSearch(last.ctx);
      last = null;
      const { report, ctx, scorer } = await runSetting(setting, index, archs, options, hooks);
      settings.push(report);
      last = { ctx, scorer };
    }

    const { ctx, scorer } = last as { ctx: SearchContext; scorer: ArchitectureScorer };
    return {
      settings,
      architectures: settings[0].points.map((p) => ({ architecture: p.architecture,
        flopsM: p.flopsM })),
      kendallTau: pairwiseTau(settings),
      samples: options.samples,
      seed: options.seed,
      preset: preset.name,
      classes: ctx.data.classes,
      backend: ctx.backend.name,
      scoring: { ...scorer.options, validationCount: scorer.validation.count },
    };
  } finally {
    if (last) closeSearch(last.ctx);
  }
}

/**
 * The paper's experiments as run kinds: for each kind, what a validated
 * experiment input becomes as a registry run (its stored configuration) and
 * the body that runs it through executeExperiment / runExperiment. The CLI
 * commands (main/cli/experimentCommands.ts) and the job runner's child
 * process (main/jobs/jobWorker.ts) both come through here, so an experiment
 * behaves the same whoever started it.
 *
 * The input names its source run by registry id (the API's `sourceRunId`);
 * the CLI names a folder instead. Both resolve to ExperimentPlaces.sourceDir
 * before an experiment is planned.
 */
import path from 'node:path';

import type { BaselineReport, ExperimentInput, ExperimentKind } from '../api/contract.js';
import { EXPERIMENT_KINDS } from '../api/contract.js';
import { CPU_ABLATION, runAblation, type AblationReport }
  from '../engine/experiments/ablation.js';
import { budgetsFor, CPU_EVOLUTION, CPU_RANDOM_SEARCH, runBaselines, type BaselineMethod,
  type BaselineSettings } from '../engine/experiments/baselines.js';
import type { BaselineResult } from '../engine/experiments/baselineTypes.js';
import { compareSearch, type CompareSearchReport } from '../engine/experiments/compareSearch.js';
import { CPU_PRIOR_STUDY, priorStudy, type PriorStudyReport }
  from '../engine/experiments/priorStudy.js';
import { randomSubnetStudy, type RandomSubnetsReport }
  from '../engine/experiments/randomSubnets.js';
import { ArchitectureScorer, type ScoringOptions } from '../engine/experiments/scorer.js';
import { openTrainedRun } from '../engine/experiments/trainedRun.js';
import { CPU_SCRATCH_TRAINING, trainFromScratch, type ScratchResult }
  from '../engine/experiments/trainScratch.js';
import { initBackend } from '../engine/backend.js';
import { detectFormat, loadDataset } from '../engine/data/dataset.js';
import { subsetBalanced } from '../engine/data/split.js';
import { parseSearchConfig, type SearchConfig } from '../engine/pipeline/config.js';
import { defaultSearchConfig } from '../engine/pipeline/defaults.js';
import { checkBudgets } from '../engine/pipeline/generate.js';
import { readRunConfig, writeFileAtomic } from '../engine/pipeline/runFolder.js';
import { checkSearchConfig, closeSearch, spaceOptionsOf } from '../engine/pipeline/search.js';
import { formatArchitecture, parseArchitectureText } from '../engine/space/architecture.js';
import { flopsM, paramCount } from '../engine/space/costModel.js';
import { getPreset } from '../engine/space/presets.js';
import type { Architecture, Preset } from '../engine/space/types.js';
import type { ArchitectureInput, ArtifactInput, NewRun } from '../registry/index.js';
import type { ExperimentRecord, ExperimentRunContext } from './experimentJob.js';

/** An experiment input whose source run may be a folder only (the CLI's --run). */
export type ExperimentSpec = ExperimentInput extends infer I
  ? I extends { kind: string }
    ? Omit<I, 'sourceRunId'> & { sourceRunId?: string }
    : never
  : never;

/** Where an experiment reads and writes, resolved by whoever starts it. */
export interface ExperimentPlaces {
  /** The trained run folder whose supernet, generator or config the experiment uses. */
  sourceDir: string | null;
  /** ablation / prior-study: folder of the trained sub-runs (default: the run's own). */
  outDir?: string | null;
  /** train-scratch: the export folder (default: <run folder>/export). */
  exportDir?: string | null;
}

/** What each kind's body returns. */
export interface KindResults {
  'baseline-random': BaselineResult[];
  'baseline-evolution': BaselineResult[];
  'compare-search': CompareSearchReport;
  'random-subnets': RandomSubnetsReport;
  ablation: AblationReport;
  'prior-study': PriorStudyReport;
  'train-scratch': ScratchResult;
}

/** An experiment ready to register and run. */
export interface ExperimentPlan<T> {
  kind: ExperimentKind;
  /** What to register: kind, stored configuration, seed, parent run. */
  run: NewRun;
  body: (ctx: ExperimentRunContext) => Promise<T>;
  record: (result: T, runDir: string) => ExperimentRecord;
}

/**
 * An experiment refused before (or while) it starts for a reason the caller
 * can fix: a budget outside the space, an architecture that does not parse.
 */
export class ExperimentSetupError extends Error {
  override name = 'ExperimentSetupError';
}

/** Kinds whose interrupted run continues from its folder's checkpoints. */
export const RESUMABLE_EXPERIMENT_KINDS: readonly ExperimentKind[] = ['ablation', 'prior-study'];

/** Whether a run kind is one of the paper's experiments. */
export function isExperimentKind(kind: string): kind is ExperimentKind {
  return (EXPERIMENT_KINDS as readonly string[]).includes(kind);
}

/** Kinds that cannot run without a trained source run folder. */
const NEEDS_SOURCE: readonly ExperimentKind[] = ['baseline-random', 'baseline-evolution',
  'random-subnets', 'prior-study'];

/** Whether the kind needs a source run (compare-search and train-scratch may go without). */
export function needsSource(kind: ExperimentKind): boolean {
  return NEEDS_SOURCE.includes(kind);
}

/** The results/experiment.json of a baseline run. */
export function baselineReport(method: BaselineMethod, results: BaselineResult[]): BaselineReport {
  return {
    method,
    searchSeconds: results.reduce((s, r) => s + r.seconds, 0),
    budgets: results.map((r) => ({ targetM: r.budgetM, flopsM: r.best.flopsM,
      accuracy: r.best.accuracy, evaluations: r.evaluations, seconds: r.seconds,
      architecture: formatArchitecture(r.best.architecture) })),
  };
}

/**
 * Turns an experiment into a plan: validates what can be checked without
 * training (explicit budgets against the source run's FLOPs range, the
 * evolution's parents against its population, train-scratch's data folder
 * and architecture), and builds the configuration stored with the run and the
 * body that runs it. Callers plan before they register, so a refused
 * experiment leaves no run behind.
 *
 * @param spec a validated experiment (experimentInputSchema's output).
 * @param places the resolved source folder and optional output folders.
 * @throws ExperimentSetupError naming the value, what is allowed and the fix:
 *   a kind that needs a source folder has none, a target budget outside the
 *   space, more parents than the population, a missing or unreadable data
 *   folder, an architecture that does not fit the space.
 */
export function planExperiment<S extends ExperimentSpec>(
  spec: S,
  places: ExperimentPlaces,
): ExperimentPlan<KindResults[S['kind']]> {
  if (needsSource(spec.kind) && !places.sourceDir) {
    throw new ExperimentSetupError(
      `${spec.kind} needs a source run: a completed search whose supernet it uses`,
    );
  }
  const plan = planKind(spec as ExperimentSpec, places);
  const stored = { ...plan.config, experiment: spec, places: storedPlaces(places) };
  return {
    kind: spec.kind,
    run: { kind: spec.kind, config: stored, seed: plan.seed, name: plan.name,
      parentRunId: spec.sourceRunId ?? null },
    body: plan.body,
    record: plan.record,
  } as unknown as ExperimentPlan<KindResults[S['kind']]>;
}

/**
 * Reads back what planExperiment stored in a run's configuration, to run
 * (or resume) it in another process.
 *
 * @throws ExperimentSetupError when the configuration holds no experiment.
 */
export function storedExperiment(runId: string, config: unknown): {
  spec: ExperimentSpec;
  places: ExperimentPlaces;
} {
  const c = (config ?? {}) as { experiment?: { kind?: unknown };
    places?: Partial<ExperimentPlaces> };
  const kind = c.experiment?.kind;
  if (typeof kind !== 'string' || !isExperimentKind(kind)) {
    throw new ExperimentSetupError(`run ${runId} holds no experiment in its configuration ` +
      `(kind ${JSON.stringify(kind)}): start it again with startExperiment`);
  }
  const text = (v: unknown) => (typeof v === 'string' ? v : null);
  return {
    spec: c.experiment as ExperimentSpec,
    places: { sourceDir: text(c.places?.sourceDir), outDir: text(c.places?.outDir),
      exportDir: text(c.places?.exportDir) },
  };
}

function storedPlaces(places: ExperimentPlaces) {
  const abs = (p: string | null | undefined) => (p ? path.resolve(p) : null);
  return { sourceDir: abs(places.sourceDir), outDir: abs(places.outDir),
    exportDir: abs(places.exportDir) };
}

/** The untyped plan every kind builds. */
interface KindPlan {
  config: Record<string, unknown>;
  seed: number | null;
  name: string;
  body: (ctx: ExperimentRunContext) => Promise<never>;
  record: (result: never, runDir: string) => ExperimentRecord;
}

function planKind(spec: ExperimentSpec, places: ExperimentPlaces): KindPlan {
  const source = places.sourceDir ? path.resolve(places.sourceDir) : null;
  const plans: { [K in ExperimentKind]: (s: Extract<ExperimentSpec, { kind: K }>) => unknown } = {
    'baseline-random': (s) => planBaseline(s, 'random', source as string),
    'baseline-evolution': (s) => planBaseline(s, 'evolution', source as string),
    'compare-search': (s) => planCompare(s, source),
    'random-subnets': (s) => planRandomSubnets(s, source as string),
    ablation: (s) => planAblation(s, places.outDir ? path.resolve(places.outDir) : null),
    'prior-study': (s) => planPriorStudy(s, source as string,
      places.outDir ? path.resolve(places.outDir) : null),
    'train-scratch': (s) => planScratch(s, source,
      places.exportDir ? path.resolve(places.exportDir) : null),
  };
  const plan = plans[spec.kind] as (s: ExperimentSpec) => KindPlan;
  return plan(spec);
}

/** The scorer's settings of an input (the CLI's --validation-images etc.). */
function scoringOf(spec: { validationImages: number; recalBatches: number;
  recalBatchSize: number }): Partial<ScoringOptions> {
  return {
    validationImages: spec.validationImages,
    recalibrationBatches: spec.recalBatches,
    recalibrationBatchSize: spec.recalBatchSize,
    seed: 0,
  };
}

/** Both baselines' settings; a kind fills only its own method's fields. */
function baselineSettingsOf(spec: { seed: number; samples?: number; population?: number;
  parents?: number; generations?: number; mutationRate?: number }): BaselineSettings {
  return {
    seed: spec.seed,
    random: { samples: spec.samples ?? CPU_RANDOM_SEARCH.samples },
    evolution: {
      ...CPU_EVOLUTION,
      population: spec.population ?? CPU_EVOLUTION.population,
      parents: spec.parents ?? CPU_EVOLUTION.parents,
      generations: spec.generations ?? CPU_EVOLUTION.generations,
      mutationRate: spec.mutationRate ?? CPU_EVOLUTION.mutationRate,
    },
  };
}

function writeResults(runDir: string, value: unknown): ArtifactInput[] {
  writeFileAtomic(path.join(runDir, 'results', 'experiment.json'),
    `${JSON.stringify(value, null, 2)}\n`);
  return [{ kind: 'results', path: 'results/experiment.json' }];
}

function sourceName(dir: string | null): string {
  return dir ? path.basename(dir) : 'a new supernet';
}

type Spec<K extends ExperimentKind> = Extract<ExperimentSpec, { kind: K }>;

function planBaseline(
  spec: Spec<'baseline-random'> | Spec<'baseline-evolution'>,
  method: BaselineMethod,
  sourceDir: string,
): KindPlan {
  const settings = baselineSettingsOf(spec);
  if (method === 'evolution') checkParents(settings);
  if (spec.targetsM) checkTargets(spec.targetsM, sourceDir);
  const scoring = scoringOf(spec);
  let classes = 10;

  const body = async ({ runDir, hooks, keepPartial }: ExperimentRunContext) => {
    const ctx = await openTrainedRun(sourceDir, false, { log: hooks.log, signal: hooks.signal });
    try {
      classes = ctx.data.classes;
      const budgetsM = spec.targetsM ?? budgetsFor(ctx.constraint, spec.budgets);
      try {
        checkBudgets(budgetsM, ctx.preset, ctx.options);
      } catch (err) {
        throw new ExperimentSetupError((err as Error).message);
      }

      // A cancel or Ctrl-C part-way keeps the budgets whose search finished.
      const finished: BaselineResult[] = [];
      keepPartial(() => finished.length === 0 ? {} : {
        architectures: baselineArchitectures(finished, classes, sourceDir),
        artifacts: writeResults(runDir, { ...baselineReport(method, finished), partial: true,
          plannedTargetsM: budgetsM }),
      });

      const scorer = new ArchitectureScorer(ctx.supernet, ctx.data.validation, ctx.data.train,
        scoring);
      return await runBaselines(scorer, method, budgetsM, settings, {
        log: hooks.log,
        signal: hooks.signal,
        onEvaluation: (_m, b, index, planned, scored) => {
          hooks.onMetrics?.([{ stage: method, epoch: b, step: index, name: 'accuracy',
            value: scored.accuracy }]);
          hooks.onProgress?.((b + index / planned) / budgetsM.length, method);
        },
        onSearchEnd: (result) => finished.push(result),
      });
    } finally {
      closeSearch(ctx);
    }
  };

  const record = (results: BaselineResult[], dir: string): ExperimentRecord => ({
    architectures: baselineArchitectures(results, classes, sourceDir),
    artifacts: writeResults(dir, baselineReport(method, results)),
  });

  return {
    config: { runDir: sourceDir, method, settings, scoring, budgets: spec.budgets,
      targets: spec.targetsM ?? null, seed: settings.seed },
    seed: settings.seed,
    name: `${method} search on ${sourceName(sourceDir)}`,
    body: body as KindPlan['body'],
    record: record as KindPlan['record'],
  };
}

/** Evolution keeps its top parents out of its population, so it needs no more of them. */
function checkParents(settings: BaselineSettings): void {
  const { parents, population } = settings.evolution;
  if (parents > population) {
    throw new ExperimentSetupError(`evolution keeps its top parents out of its population, ` +
      `but parents is ${parents} and population ${population}: lower parents (--parents) to ` +
      `at most ${population} or raise the population (--population)`);
  }
}

/**
 * Explicit target budgets must lie inside the source run's FLOPs range; this
 * reads only its config.json, so it runs before anything is registered.
 */
function checkTargets(targetsM: readonly number[], sourceDir: string): void {
  const config = readRunConfig(sourceDir);
  try {
    checkBudgets(targetsM, getPreset(config.preset), spaceOptionsOf(config));
  } catch (err) {
    throw new ExperimentSetupError(`targets: ${(err as Error).message} (--targets / targetsM)`);
  }
}

function baselineArchitectures(results: BaselineResult[], classes: number,
  runDir: string): ArchitectureInput[] {
  const preset = getPreset(readRunConfig(runDir).preset);
  return results.map((r) => ({
    budgetM: r.budgetM,
    architecture: r.best.architecture,
    compact: formatArchitecture(r.best.architecture),
    flopsM: r.best.flopsM,
    params: paramCount(r.best.architecture, preset, classes),
    accuracy: r.best.accuracy,
  }));
}

function planCompare(spec: Spec<'compare-search'>, sourceDir: string | null): KindPlan {
  const search = spec.search ?? defaultSearchConfig('fmnist');
  const settings = baselineSettingsOf(spec);
  checkParents(settings);
  if (!sourceDir) {
    try {
      checkSearchConfig(search);
    } catch (err) {
      throw new ExperimentSetupError(`search: ${(err as Error).message}`);
    }
  }
  const scoring = scoringOf(spec);

  const body = ({ runDir: own, hooks }: ExperimentRunContext) => compareSearch({
    budgets: spec.budgets, runDir: sourceDir ?? undefined,
    trainDir: path.join(own, 'sgnas-run'), config: search, scoring, baselines: settings,
  }, hooks);

  const record = (report: CompareSearchReport, dir: string): ExperimentRecord => ({
    architectures: (['sgnas', 'random', 'evolution'] as const).flatMap((m) =>
      report[m].budgets.map((b) => compareArchitecture(report, b))),
    artifacts: writeResults(dir, report),
  });

  return {
    config: { budgets: spec.budgets, runDir: sourceDir, search: sourceDir ? null : search,
      scoring, baselines: settings, seed: settings.seed },
    seed: settings.seed,
    name: `compare-search on ${sourceName(sourceDir)}`,
    body: body as KindPlan['body'],
    record: record as KindPlan['record'],
  };
}

function compareArchitecture(report: CompareSearchReport, b: { targetM: number;
  flopsM: number; accuracy: number; architecture: string }): ArchitectureInput {
  const config = readRunConfig(report.runDir);
  const preset = getPreset(config.preset);
  const arch = parseArchitectureText(b.architecture, preset, spaceOptionsOf(config));
  return { budgetM: b.targetM, architecture: arch, compact: b.architecture, flopsM: b.flopsM,
    params: paramCount(arch, preset, config.classes ?? 10), accuracy: b.accuracy };
}

function planRandomSubnets(spec: Spec<'random-subnets'>, sourceDir: string): KindPlan {
  const study = { samples: spec.samples, budgets: spec.budgets, seed: spec.seed };
  const scoring = scoringOf(spec);

  const body = async ({ hooks }: ExperimentRunContext) => {
    const ctx = await openTrainedRun(sourceDir, true, { log: hooks.log, signal: hooks.signal });
    try {
      const scorer = new ArchitectureScorer(ctx.supernet, ctx.data.validation, ctx.data.train,
        scoring);
      return await randomSubnetStudy(ctx, scorer, study, hooks);
    } finally {
      closeSearch(ctx);
    }
  };

  return {
    config: { runDir: sourceDir, ...study, scoring },
    seed: study.seed,
    name: `random-subnets on ${sourceName(sourceDir)}`,
    body: body as KindPlan['body'],
    record: ((report: RandomSubnetsReport, dir: string) =>
      ({ artifacts: writeResults(dir, report) })) as KindPlan['record'],
  };
}

/**
 * Any valid architecture of the space: the ablation's settings without forced
 * sampling score architectures with skips anywhere.
 */
const ANY_VALID = { forcedSampling: false, minExpansion: 1 };

function planScratch(spec: Spec<'train-scratch'>, sourceDir: string | null,
  exportTo: string | null): KindPlan {
  const search = sourceDir ? readRunConfig(sourceDir) : parseSearchConfig({
    ...defaultSearchConfig(spec.preset ?? 'fmnist'),
    ...(spec.dataDir === undefined ? {} : { dataDir: spec.dataDir }),
  });
  const preset = getPreset(search.preset);
  checkDataFolder(search);
  let arch: Architecture;
  try {
    // The search's own rules (forced sampling: skips only at the end), so an
    // architecture the space cannot hold is refused rather than reordered.
    arch = parseArchitectureText(spec.architecture.trim(), preset, spaceOptionsOf(search));
  } catch (err) {
    throw new ExperimentSetupError(`architecture: ${(err as Error).message}`);
  }
  const training = trainingOf(spec);

  const body = async ({ runDir, hooks }: ExperimentRunContext) => {
    await initBackend(search.backend);
    const loaded = loadDataset({ dir: search.dataDir });
    const subset = (set: typeof loaded.train, n: number | undefined) =>
      n !== undefined && n < set.count ? subsetBalanced(set, n, training.seed) : set;
    const data = { train: subset(loaded.train, spec.trainSubset),
      test: subset(loaded.test, spec.testSubset),
      classes: search.classes ?? loaded.train.classes };
    return trainFromScratch(arch, preset, data, training, exportTo ?? path.join(runDir, 'export'),
      hooks);
  };

  const record = (r: ScratchResult, dir: string): ExperimentRecord => ({
    architectures: [{ budgetM: null, architecture: arch, compact: r.architecture,
      flopsM: flopsM(arch, preset), params: r.params, accuracy: r.testAccuracy }],
    artifacts: [
      ...writeResults(dir, r),
      ...(r.exportDir?.startsWith(dir) ? ['model.json', 'weights.bin', 'architecture.json']
        .map((f) => ({ kind: 'export' as const, path: path.relative(dir,
          path.join(r.exportDir as string, f)) })) : []),
    ],
  });

  return {
    config: { preset: preset.name, dataDir: search.dataDir ?? null,
      architecture: formatArchitecture(arch), training, seed: training.seed,
      trainSubset: spec.trainSubset ?? null, testSubset: spec.testSubset ?? null },
    seed: training.seed,
    name: `train-scratch ${formatArchitecture(arch)}`,
    body: body as KindPlan['body'],
    record: record as KindPlan['record'],
  };
}

/**
 * The checks a search makes of its data folder before it registers
 * (checkSearchConfig), plus that the folder can be listed and holds a
 * dataset format the loader reads.
 */
function checkDataFolder(search: SearchConfig): void {
  try {
    checkSearchConfig(search);
    if (search.dataDir !== undefined) detectFormat(search.dataDir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'EACCES' || code === 'ENOTDIR'
      ? `data folder ${search.dataDir} cannot be read (${code}): pass a readable folder ` +
        'holding MNIST-family IDX files or CIFAR-10 binaries'
      : (err as Error).message;
    throw new ExperimentSetupError(why);
  }
}

function trainingOf(spec: Spec<'train-scratch'>) {
  return {
    ...CPU_SCRATCH_TRAINING,
    epochs: spec.epochs,
    batchSize: spec.batchSize,
    lr: spec.lr,
    seed: spec.seed,
  };
}

/**
 * The ablation's search configuration: `search` when given, else the
 * preset's defaults with the CPU schedule on fmnist; then the explicit fields.
 */
export function ablationSearchConfig(spec: Spec<'ablation'>): SearchConfig {
  const base = spec.search ?? defaultSearchConfig(spec.preset);
  const cpu = spec.search === undefined && spec.preset === 'fmnist' ? CPU_ABLATION.supernet : {};
  const defined = (o: Record<string, unknown>) =>
    Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
  try {
    return parseSearchConfig({
      ...base,
      ...defined({ dataDir: spec.dataDir, seed: spec.seed }),
      supernet: { ...base.supernet, ...cpu, ...defined({ epochs: spec.supernetEpochs,
        trainSubset: spec.trainSubset, batchSize: spec.batchSize, lr: spec.lr }) },
    });
  } catch (err) {
    throw new ExperimentSetupError((err as Error).message);
  }
}

function planAblation(spec: Spec<'ablation'>, out: string | null): KindPlan {
  const search = ablationSearchConfig(spec);
  const study = { samples: spec.samples, seed: spec.sampleSeed };
  const scoring = scoringOf(spec);

  const body = ({ runDir, hooks }: ExperimentRunContext) =>
    runAblation({ config: search, dir: out ?? runDir, ...study, scoring }, hooks);

  const record = (report: AblationReport, dir: string): ExperimentRecord => ({
    architectures: report.settings.flatMap((s) =>
      scoredRows(report.preset, report.classes, null, s.points)),
    artifacts: writeResults(dir, report),
  });

  return {
    config: { search, ...study, scoring, out, seed: search.seed },
    seed: search.seed,
    name: `FS/SBN ablation on ${search.preset}`,
    body: body as KindPlan['body'],
    record: record as KindPlan['record'],
  };
}

function planPriorStudy(spec: Spec<'prior-study'>, sourceDir: string,
  out: string | null): KindPlan {
  const onCpuPreset = readRunConfig(sourceDir).preset === 'fmnist';
  const generator = {
    ...(onCpuPreset ? CPU_PRIOR_STUDY.generator : {}),
    ...(spec.generatorEpochs === undefined ? {} : { epochs: spec.generatorEpochs }),
    ...(spec.generatorSteps === undefined ? {} : { stepsPerEpoch: spec.generatorSteps }),
  } as { epochs?: number; stepsPerEpoch?: number };
  const study = { candidates: spec.candidates, budgets: spec.budgets, seed: spec.seed,
    generator };
  const scoring = scoringOf(spec);

  const body = async ({ runDir: own, hooks }: ExperimentRunContext) => {
    const ctx = await openTrainedRun(sourceDir, false, { log: hooks.log, signal: hooks.signal });
    try {
      const scorer = new ArchitectureScorer(ctx.supernet, ctx.data.validation, ctx.data.train,
        scoring);
      return await priorStudy(ctx, scorer, { ...study, dir: out ?? own }, hooks);
    } finally {
      closeSearch(ctx);
    }
  };

  const record = (report: PriorStudyReport, dir: string): ExperimentRecord => ({
    architectures: report.priors.flatMap((p) => p.budgets.flatMap((b) =>
      scoredRows(report.preset, report.classes, b.targetM, [b]))),
    artifacts: writeResults(dir, report),
  });

  return {
    config: { runDir: sourceDir, ...study, scoring, out },
    seed: study.seed,
    name: `prior study on ${sourceName(sourceDir)}`,
    body: body as KindPlan['body'],
    record: record as KindPlan['record'],
  };
}

/** Registry rows for scored architectures (one per setting or prior and architecture). */
function scoredRows(presetName: string, classes: number, budgetM: number | null,
  points: { architecture: string; flopsM: number; accuracy: number }[]): ArchitectureInput[] {
  const space: Preset = getPreset(presetName);
  return points.map((p) => {
    const architecture = parseArchitectureText(p.architecture, space, ANY_VALID);
    return { budgetM, architecture, compact: p.architecture, flopsM: p.flopsM,
      params: paramCount(architecture, space, classes), accuracy: p.accuracy };
  });
}

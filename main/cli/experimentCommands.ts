/**
 * The experiment commands of the sgnas CLI, each recorded in the run
 * registry as its run kind:
 *
 *   sgnas baseline-random   --run DIR [--budgets N | --targets a,b] [--samples K]
 *   sgnas baseline-evolution --run DIR [--budgets N | --targets a,b] [--population P ...]
 *   sgnas compare-search    [--run DIR] --budgets N [--json]
 *   sgnas random-subnets    --run DIR [--samples K] [--budgets N]
 *   sgnas train-scratch     --arch TEXT|FILE [--run DIR | --preset NAME] [--epochs E]
 *   sgnas ablation          [--samples K] [--supernet-epochs E] [--train-subset N] [--out DIR]
 *   sgnas prior-study       --run DIR [--candidates C] [--budgets N] [--generator-epochs E]
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

import { budgetsFor, CPU_EVOLUTION, CPU_RANDOM_SEARCH, runBaselines,
  type BaselineMethod, type BaselineSettings } from '../engine/experiments/baselines.js';
import type { BaselineResult } from '../engine/experiments/baselineTypes.js';
import { compareSearch, type CompareSearchReport } from '../engine/experiments/compareSearch.js';
import { randomSubnetStudy, type RandomSubnetsReport }
  from '../engine/experiments/randomSubnets.js';
import { CPU_ABLATION, runAblation, type AblationReport }
  from '../engine/experiments/ablation.js';
import { CPU_PRIOR_STUDY, priorStudy, type PriorStudyReport }
  from '../engine/experiments/priorStudy.js';
import { ArchitectureScorer, DEFAULT_SCORING, type ScoringOptions }
  from '../engine/experiments/scorer.js';
import { openTrainedRun } from '../engine/experiments/trainedRun.js';
import { CPU_SCRATCH_TRAINING, trainFromScratch, type ScratchResult }
  from '../engine/experiments/trainScratch.js';
import { initBackend } from '../engine/backend.js';
import { loadDataset } from '../engine/data/dataset.js';
import { subsetBalanced } from '../engine/data/split.js';
import { checkBudgets } from '../engine/pipeline/generate.js';
import { readRunConfig, writeFileAtomic } from '../engine/pipeline/runFolder.js';
import { closeSearch, spaceOptionsOf } from '../engine/pipeline/search.js';
import { parseArchitectureJson, parseArchitectureText, formatArchitecture }
  from '../engine/space/architecture.js';
import { flopsM, paramCount } from '../engine/space/costModel.js';
import { getPreset } from '../engine/space/presets.js';
import type { Architecture } from '../engine/space/types.js';
import { executeExperiment, type ExperimentRecord } from '../jobs/experimentJob.js';
import { RunRegistry, resolveDbPath, type RunKind } from '../registry/index.js';
import { formatOptions, parseArgs, UsageError, type OptionSpecs } from './args.js';
import { SEARCH_OPTIONS, searchConfigFromOptions } from './searchOptions.js';

const COMMON: OptionSpecs = {
  run: { kind: 'string', help: 'a run folder `sgnas search` trained (its supernet is used)' },
  seed: { kind: 'number', help: 'seed of the searches (search i uses seed + i; default 0)' },
  'validation-images': { kind: 'number',
    help: `validation images scored per architecture (${DEFAULT_SCORING.validationImages})` },
  'recal-batches': { kind: 'number',
    help: `BN recalibration batches before scoring (${DEFAULT_SCORING.recalibrationBatches})` },
  'recal-batch-size': { kind: 'number',
    help: `images per recalibration batch (${DEFAULT_SCORING.recalibrationBatchSize})` },
  db: { kind: 'string', help: 'run registry database (default: SGNAS_DB or the user folder)' },
  json: { kind: 'boolean', help: 'end the output with one JSON line of the results' },
  help: { kind: 'boolean', help: 'show this help' },
};

const BASELINE: OptionSpecs = {
  ...COMMON,
  budgets: { kind: 'number', help: 'N budgets spread over the constraint interval (10)' },
  targets: { kind: 'list', help: 'explicit budgets in MFLOPs, comma-separated' },
  samples: { kind: 'number',
    help: `random search: architectures per budget (${CPU_RANDOM_SEARCH.samples}; paper 1000)` },
  population: { kind: 'number',
    help: `evolution: population (${CPU_EVOLUTION.population}; paper 50)` },
  parents: { kind: 'number',
    help: `evolution: top parents kept (${CPU_EVOLUTION.parents}; paper 10)` },
  generations: { kind: 'number',
    help: `evolution: generations (${CPU_EVOLUTION.generations}; paper 20)` },
  'mutation-rate': { kind: 'number',
    help: `evolution: chance a layer mutates (${CPU_EVOLUTION.mutationRate})` },
};

const COMPARE: OptionSpecs = { ...SEARCH_OPTIONS, ...BASELINE };

const SUBNETS: OptionSpecs = {
  ...COMMON,
  samples: { kind: 'number', help: 'K random architectures scored (100)' },
  budgets: { kind: 'number', help: 'budgets the generator is asked for (10)' },
};

const SCRATCH: OptionSpecs = {
  ...COMMON,
  arch: { kind: 'string', help: 'the architecture: compact text, or a .json / .txt file' },
  preset: { kind: 'string', help: 'search space when no --run is given (fmnist)' },
  data: { kind: 'string', help: 'dataset folder when no --run is given' },
  epochs: { kind: 'number', help: `training epochs (${CPU_SCRATCH_TRAINING.epochs})` },
  'batch-size': { kind: 'number', help: `batch size (${CPU_SCRATCH_TRAINING.batchSize})` },
  lr: { kind: 'number', help: `learning rate at step 0, cosine (${CPU_SCRATCH_TRAINING.lr})` },
  'train-subset': { kind: 'number', help: 'train on a balanced subset of N images (all)' },
  'test-subset': { kind: 'number', help: 'test on a balanced subset of N images (all)' },
  export: { kind: 'string', help: 'export folder (default: <run folder>/export)' },
};

type Options = Record<string, unknown>;

function num(options: Options, name: string, fallback: number): number {
  const value = options[name];
  return typeof value === 'number' ? value : fallback;
}

function scoringFrom(options: Options): Partial<ScoringOptions> {
  return {
    validationImages: num(options, 'validation-images', DEFAULT_SCORING.validationImages ?? 200),
    recalibrationBatches: num(options, 'recal-batches', DEFAULT_SCORING.recalibrationBatches),
    recalibrationBatchSize: num(options, 'recal-batch-size',
      DEFAULT_SCORING.recalibrationBatchSize),
    seed: 0,
  };
}

function baselineSettings(options: Options): BaselineSettings {
  return {
    seed: num(options, 'seed', 0),
    random: { samples: num(options, 'samples', CPU_RANDOM_SEARCH.samples) },
    evolution: {
      ...CPU_EVOLUTION,
      population: num(options, 'population', CPU_EVOLUTION.population),
      parents: num(options, 'parents', CPU_EVOLUTION.parents),
      generations: num(options, 'generations', CPU_EVOLUTION.generations),
      mutationRate: num(options, 'mutation-rate', CPU_EVOLUTION.mutationRate),
    },
  };
}

function requireRun(options: Options, command: string): string {
  if (typeof options.run !== 'string') {
    throw new UsageError(
      `${command} needs --run DIR, a run folder \`sgnas search --out DIR\` trained`,
    );
  }
  if (!existsSync(path.join(options.run, 'config.json'))) {
    throw new UsageError(`${options.run} is not a run folder (no config.json): pass the folder ` +
      'a search wrote with --out');
  }
  return options.run;
}

function interruptSignal(): AbortSignal {
  const controller = new AbortController();
  process.once('SIGINT', () => {
    console.error('interrupted: stopping after the current evaluation');
    controller.abort();
    process.once('SIGINT', () => process.exit(130));
  });
  return controller.signal;
}

/** Opens the registry, runs the experiment as a run of `kind`, prints the outcome. */
async function recorded<T>(
  options: Options,
  kind: RunKind,
  config: Record<string, unknown>,
  body: Parameters<typeof executeExperiment<T>>[2],
  record: (result: T, runDir: string) => ExperimentRecord,
): Promise<{ result: T | undefined; code: number }> {
  const registry = await RunRegistry.open(resolveDbPath(options.db as string | undefined));
  try {
    await registry.markDeadRunsInterrupted();
    const { result, run } = await executeExperiment(registry, { kind, config,
      seed: typeof config.seed === 'number' ? config.seed : null }, body, record, {
      log: (line) => console.log(line),
      signal: interruptSignal(),
      onRegistered: (r, dir) => console.log(`run ${r.id} (${kind}) registered; folder ${dir}`),
    });
    return { result, code: run.status === 'completed' ? 0 : 130 };
  } finally {
    registry.close();
  }
}

function writeResults(runDir: string, value: unknown): ExperimentRecord['artifacts'] {
  writeFileAtomic(path.join(runDir, 'results', 'experiment.json'),
    `${JSON.stringify(value, null, 2)}\n`);
  return [{ kind: 'results', path: 'results/experiment.json' }];
}

function baselineArchitectures(results: BaselineResult[], classes: number, runDir: string) {
  const config = readRunConfig(runDir);
  const preset = getPreset(config.preset);
  return results.map((r) => ({
    budgetM: r.budgetM,
    architecture: r.best.architecture,
    compact: formatArchitecture(r.best.architecture),
    flopsM: r.best.flopsM,
    params: paramCount(r.best.architecture, preset, classes),
    accuracy: r.best.accuracy,
  }));
}

/** `sgnas baseline-random` and `sgnas baseline-evolution`. */
export async function baselineCommand(command: string, argv: string[]): Promise<number> {
  const { options } = parseArgs(argv, BASELINE);
  if (options.help) {
    console.log(`usage: sgnas ${command} --run DIR [options]\n\n${formatOptions(BASELINE)}`);
    return 0;
  }
  const runDir = requireRun(options, command);
  const method: BaselineMethod = command === 'baseline-random' ? 'random' : 'evolution';
  const settings = baselineSettings(options);
  const scoring = scoringFrom(options);
  const config = { runDir: path.resolve(runDir), method, settings, scoring,
    budgets: options.budgets ?? null, targets: options.targets ?? null, seed: settings.seed };
  const summary = (results: BaselineResult[]) => ({
    method,
    searchSeconds: results.reduce((s, r) => s + r.seconds, 0),
    budgets: results.map((r) => ({ targetM: r.budgetM, flopsM: r.best.flopsM,
      accuracy: r.best.accuracy, evaluations: r.evaluations, seconds: r.seconds,
      architecture: formatArchitecture(r.best.architecture) })),
  });

  let classes = 10;
  const { result, code } = await recorded(options, `baseline-${method}` as RunKind, config,
    async ({ hooks }) => {
      const ctx = await openTrainedRun(runDir, false, { log: hooks.log, signal: hooks.signal });
      try {
        classes = ctx.data.classes;
        const budgetsM = (options.targets as number[] | undefined) ??
          budgetsFor(ctx.constraint, num(options, 'budgets', 10));
        try {
          checkBudgets(budgetsM, ctx.preset, ctx.options);
        } catch (err) {
          throw new UsageError((err as Error).message);
        }
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
        });
      } finally {
        closeSearch(ctx);
      }
    },
    (results, dir) => ({
      architectures: baselineArchitectures(results, classes, runDir),
      artifacts: writeResults(dir, summary(results)),
    }));

  if (result) {
    const s = summary(result);
    for (const b of s.budgets) {
      console.log(`${b.targetM.toFixed(4)} MFLOPs: ${(b.accuracy * 100).toFixed(2)}% at ` +
        `${b.flopsM.toFixed(4)} MFLOPs, ${b.evaluations} evaluations, ${b.seconds.toFixed(1)} s`);
    }
    console.log(`${method}: ${s.searchSeconds.toFixed(1)} s of search over ` +
      `${s.budgets.length} budgets`);
    if (options.json) console.log(JSON.stringify(s));
  }
  return code;
}

/** The report's JSON line: per method its total search seconds and per-budget picks. */
export function compareSummary(report: CompareSearchReport) {
  const method = (m: { searchSeconds: number; budgets: { targetM: number; flopsM: number;
    accuracy: number }[] }) => ({
    searchSeconds: round(m.searchSeconds, 3),
    budgets: m.budgets.map((b) => ({ targetM: round(b.targetM, 6), flopsM: round(b.flopsM, 6),
      accuracy: round(b.accuracy, 6) })),
  });
  return {
    sgnas: {
      ...method(report.sgnas),
      generatorTrainSeconds: round(report.sgnas.generatorTrainSeconds, 3),
      generationSeconds: round(report.sgnas.generationSeconds, 4),
      timeSource: report.sgnas.timeSource,
    },
    random: { ...method(report.random), evaluations: report.random.evaluations },
    evolution: { ...method(report.evolution), evaluations: report.evolution.evaluations },
    supernetTrainSeconds: report.supernetTrainSeconds === null ? null
      : round(report.supernetTrainSeconds, 3),
    runDir: report.runDir,
    backend: report.backend,
  };
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

/** `sgnas compare-search`: the paper's Table 1 on the default (or --run) supernet. */
export async function compareCommand(argv: string[]): Promise<number> {
  const { options } = parseArgs(argv, COMPARE);
  if (options.help) {
    console.log(`usage: sgnas compare-search --budgets N [--run DIR] [options]\n\n` +
      formatOptions(COMPARE));
    return 0;
  }
  const runDir = options.run === undefined ? undefined : requireRun(options, 'compare-search');
  const budgets = num(options, 'budgets', 10);
  const searchConfig = searchConfigFromOptions(options);
  const settings = baselineSettings(options);
  const scoring = scoringFrom(options);
  const config = { budgets, runDir: runDir ? path.resolve(runDir) : null,
    search: runDir ? null : searchConfig, scoring, baselines: settings, seed: settings.seed };

  const { result, code } = await recorded(options, 'compare-search', config,
    async ({ runDir: own, hooks }) => compareSearch({ budgets, runDir,
      trainDir: path.join(own, 'sgnas-run'), config: searchConfig, scoring, baselines: settings },
    hooks),
    (report, dir) => ({
      architectures: (['sgnas', 'random', 'evolution'] as const).flatMap((m) =>
        report[m].budgets.map((b) => compareArchitecture(report, b))),
      artifacts: writeResults(dir, report),
    }));

  if (result) {
    printComparison(result);
    if (options.json) console.log(JSON.stringify(compareSummary(result)));
  }
  return code;
}

function compareArchitecture(report: CompareSearchReport, b: { targetM: number; flopsM: number;
  accuracy: number; architecture: string }) {
  const config = readRunConfig(report.runDir);
  const preset = getPreset(config.preset);
  const arch = parseArchitectureText(b.architecture, preset, spaceOptionsOf(config));
  return { budgetM: b.targetM, architecture: arch, compact: b.architecture, flopsM: b.flopsM,
    params: paramCount(arch, preset, config.classes ?? 10), accuracy: b.accuracy };
}

function printComparison(report: CompareSearchReport): void {
  const line = (name: string, m: { searchSeconds: number; budgets: { accuracy: number }[] }) => {
    const mean = m.budgets.reduce((s, b) => s + b.accuracy, 0) / m.budgets.length;
    console.log(`${name.padEnd(10)} search ${m.searchSeconds.toFixed(1).padStart(8)} s, mean ` +
      `supernet accuracy ${(mean * 100).toFixed(2)}%`);
  };
  console.log(`search cost for ${report.budgetsM.length} budgets (supernet shared; its training ` +
    `${report.supernetTrainSeconds?.toFixed(1) ?? '?'} s is not counted):`);
  line('sgnas', report.sgnas);
  line('random', report.random);
  line('evolution', report.evolution);
  for (const [i, targetM] of report.budgetsM.entries()) {
    const cell = (m: { budgets: { flopsM: number; accuracy: number }[] }) =>
      `${(m.budgets[i].accuracy * 100).toFixed(1)}% @ ${m.budgets[i].flopsM.toFixed(3)}`;
    console.log(`  ${targetM.toFixed(3)} M: sgnas ${cell(report.sgnas)} | random ` +
      `${cell(report.random)} | evolution ${cell(report.evolution)}`);
  }
}

/** `sgnas random-subnets`: K random architectures against the generator's. */
export async function randomSubnetsCommand(argv: string[]): Promise<number> {
  const { options } = parseArgs(argv, SUBNETS);
  if (options.help) {
    console.log(`usage: sgnas random-subnets --run DIR [options]\n\n${formatOptions(SUBNETS)}`);
    return 0;
  }
  const runDir = requireRun(options, 'random-subnets');
  const study = { samples: num(options, 'samples', 100), budgets: num(options, 'budgets', 10),
    seed: num(options, 'seed', 0) };
  const scoring = scoringFrom(options);
  const config = { runDir: path.resolve(runDir), ...study, scoring };

  const { result, code } = await recorded<RandomSubnetsReport>(options, 'random-subnets', config,
    async ({ hooks }) => {
      const ctx = await openTrainedRun(runDir, true, { log: hooks.log, signal: hooks.signal });
      try {
        const scorer = new ArchitectureScorer(ctx.supernet, ctx.data.validation, ctx.data.train,
          scoring);
        return await randomSubnetStudy(ctx, scorer, study, hooks);
      } finally {
        closeSearch(ctx);
      }
    },
    (report, dir) => ({ artifacts: writeResults(dir, report) }));
  if (result && options.json) {
    console.log(JSON.stringify({ meanBeatsShare: result.meanBeatsShare,
      generated: result.generated, randomCount: result.random.length }));
  }
  return code;
}

function readArchitecture(value: string, preset: ReturnType<typeof getPreset>): Architecture {
  if (existsSync(value)) {
    const text = readFileSync(value, 'utf8');
    const trimmed = text.trim();
    if (trimmed.startsWith('{')) {
      const parsed = JSON.parse(trimmed) as { layers?: unknown; text?: string };
      return parseArchitectureJson({ layers: parsed.layers }, preset,
        { forcedSampling: false, minExpansion: 1 });
    }
    return parseArchitectureText(trimmed, preset, { forcedSampling: false, minExpansion: 1 });
  }
  return parseArchitectureText(value, preset, { forcedSampling: false, minExpansion: 1 });
}

/** `sgnas train-scratch`: train an architecture's stand-alone network and export it. */
export async function trainScratchCommand(argv: string[]): Promise<number> {
  const { options } = parseArgs(argv, SCRATCH);
  if (options.help) {
    console.log(`usage: sgnas train-scratch --arch TEXT|FILE [options]\n\n` +
      formatOptions(SCRATCH));
    return 0;
  }
  if (typeof options.arch !== 'string') {
    throw new UsageError(
      'train-scratch needs --arch: compact text ("33---- 557--- ...") or a file',
    );
  }
  const search = typeof options.run === 'string' ? readRunConfig(requireRun(options,
    'train-scratch')) : searchConfigFromOptions({ preset: options.preset, data: options.data });
  const preset = getPreset(search.preset);
  let arch: Architecture;
  try {
    arch = readArchitecture(options.arch, preset);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const training = {
    ...CPU_SCRATCH_TRAINING,
    epochs: num(options, 'epochs', CPU_SCRATCH_TRAINING.epochs),
    batchSize: num(options, 'batch-size', CPU_SCRATCH_TRAINING.batchSize),
    lr: num(options, 'lr', CPU_SCRATCH_TRAINING.lr),
    seed: num(options, 'seed', CPU_SCRATCH_TRAINING.seed),
  };
  const config = { preset: preset.name, dataDir: search.dataDir ?? null,
    architecture: formatArchitecture(arch), training, seed: training.seed,
    trainSubset: options['train-subset'] ?? null, testSubset: options['test-subset'] ?? null };

  const { result, code } = await recorded<ScratchResult>(options, 'train-scratch', config,
    async ({ runDir, hooks }) => {
      await initBackend(search.backend);
      const loaded = loadDataset({ dir: search.dataDir });
      const subset = (set: typeof loaded.train, n: unknown) =>
        typeof n === 'number' && n < set.count ? subsetBalanced(set, n, training.seed) : set;
      const data = { train: subset(loaded.train, options['train-subset']),
        test: subset(loaded.test, options['test-subset']),
        classes: search.classes ?? loaded.train.classes };
      const exportDir = typeof options.export === 'string' ? path.resolve(options.export)
        : path.join(runDir, 'export');
      return trainFromScratch(arch, preset, data, training, exportDir, hooks);
    },
    (r, dir) => ({
      architectures: [{ budgetM: null, architecture: arch, compact: r.architecture,
        flopsM: flopsM(arch, preset), params: r.params, accuracy: r.testAccuracy }],
      artifacts: [
        ...(writeResults(dir, r) ?? []),
        ...(r.exportDir?.startsWith(dir) ? ['model.json', 'weights.bin', 'architecture.json']
          .map((f) => ({ kind: 'export' as const, path: path.relative(dir,
            path.join(r.exportDir as string, f)) })) : []),
      ],
    }));
  if (result) {
    console.log(`test accuracy ${(result.testAccuracy * 100).toFixed(2)}%, ${result.params} ` +
      `parameters, ${result.flopsM.toFixed(4)} MFLOPs; exported to ${result.exportDir}`);
    if (options.json) console.log(JSON.stringify(result));
  }
  return code;
}

/** COMMON without --run and --seed, which the ablation gives other meanings. */
const SCORING_OPTIONS: OptionSpecs = Object.fromEntries(
  Object.entries(COMMON).filter(([name]) => name !== 'run' && name !== 'seed'),
);

const ABLATION: OptionSpecs = {
  ...SCORING_OPTIONS,
  preset: SEARCH_OPTIONS.preset,
  config: SEARCH_OPTIONS.config,
  data: SEARCH_OPTIONS.data,
  classes: SEARCH_OPTIONS.classes,
  backend: SEARCH_OPTIONS.backend,
  seed: { kind: 'number', help: 'seed of the data split, the weights and training (1)' },
  'min-expansion': SEARCH_OPTIONS['min-expansion'],
  'validation-per-class': SEARCH_OPTIONS['validation-per-class'],
  'supernet-epochs': { kind: 'number',
    help: `supernet epochs, the same for all four (fmnist: ${CPU_ABLATION.supernet.epochs})` },
  'train-subset': { kind: 'number', help: 'train each supernet on a balanced subset of N ' +
    `(fmnist: ${CPU_ABLATION.supernet.trainSubset})` },
  'batch-size': { kind: 'number',
    help: `supernet batch size (fmnist: ${CPU_ABLATION.supernet.batchSize})` },
  'micro-batch': SEARCH_OPTIONS['micro-batch'],
  lr: SEARCH_OPTIONS.lr,
  samples: { kind: 'number',
    help: `K random architectures scored on every supernet (${CPU_ABLATION.samples})` },
  'sample-seed': { kind: 'number', help: 'seed of the K architectures (0)' },
  out: { kind: 'string', help: 'folder of the four supernets; pass it again to resume ' +
    '(default: the registry run\'s folder)' },
};

const PRIOR_STUDY: OptionSpecs = {
  ...COMMON,
  seed: { kind: 'number', help: 'candidate prior i is the random prior of seed + i (0)' },
  candidates: { kind: 'number',
    help: `random priors scored before 4 are picked (${CPU_PRIOR_STUDY.candidates})` },
  budgets: { kind: 'number', help: `budgets every generator is compared at ` +
    `(${CPU_PRIOR_STUDY.budgets})` },
  'generator-epochs': { kind: 'number',
    help: `epochs of each generator (fmnist: ${CPU_PRIOR_STUDY.generator.epochs})` },
  'generator-steps': { kind: 'number',
    help: `steps per generator epoch (fmnist: ${CPU_PRIOR_STUDY.generator.stepsPerEpoch})` },
  out: { kind: 'string', help: 'folder of the four generators; pass it again to resume ' +
    '(default: the registry run\'s folder)' },
};

/**
 * The ablation's configuration: the search options, with the CPU schedule
 * standing in for settings neither the options nor a --config file give.
 */
function ablationConfig(options: Options) {
  const onCpuPreset = (options.preset ?? 'fmnist') === 'fmnist' && options.config === undefined;
  const cpu = onCpuPreset ? { 'supernet-epochs': CPU_ABLATION.supernet.epochs,
    'train-subset': CPU_ABLATION.supernet.trainSubset,
    'batch-size': CPU_ABLATION.supernet.batchSize } : {};
  return searchConfigFromOptions({ ...cpu, ...definedOptions(options) });
}

function definedOptions(options: Options): Options {
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
}

/** Registry rows for scored architectures (one per setting or prior and architecture). */
function scoredRows(preset: string, classes: number, budgetM: number | null,
  points: { architecture: string; flopsM: number; accuracy: number }[]) {
  const space = getPreset(preset);
  return points.map((p) => {
    const architecture = parseArchitectureText(p.architecture, space,
      { forcedSampling: false, minExpansion: 1 });
    return { budgetM, architecture, compact: p.architecture, flopsM: p.flopsM,
      params: paramCount(architecture, space, classes), accuracy: p.accuracy };
  });
}

/** `sgnas ablation`: the FS/SBN ablation (Fig 6a). */
export async function ablationCommand(argv: string[]): Promise<number> {
  const { options } = parseArgs(argv, ABLATION);
  if (options.help) {
    console.log(`usage: sgnas ablation [options]\n\n${formatOptions(ABLATION)}`);
    return 0;
  }
  const search = ablationConfig(options);
  const study = { samples: num(options, 'samples', CPU_ABLATION.samples),
    seed: num(options, 'sample-seed', 0) };
  const scoring = scoringFrom(options);
  const out = typeof options.out === 'string' ? path.resolve(options.out) : null;
  const config = { search, ...study, scoring, out, seed: search.seed };

  const { result, code } = await recorded<AblationReport>(options, 'ablation', config,
    ({ runDir, hooks }) => runAblation({ config: search, dir: out ?? runDir, ...study, scoring },
      hooks),
    (report, dir) => ({
      architectures: report.settings.flatMap((s) =>
        scoredRows(report.preset, report.classes, null, s.points)),
      artifacts: writeResults(dir, report),
    }));

  if (result) {
    for (const s of result.settings) {
      console.log(`${s.name.padEnd(8)} mean ${(s.meanAccuracy * 100).toFixed(2)}% sd ` +
        `${(s.stdAccuracy * 100).toFixed(2)} over ${s.points.length} architectures ` +
        `(supernet ${s.supernetSeconds.toFixed(1)} s, scoring ${s.scoringSeconds.toFixed(1)} s)`);
    }
    for (const t of result.kendallTau) {
      console.log(`  tau ${t.a} vs ${t.b}: ${t.tau === null ? 'n/a' : t.tau.toFixed(3)}`);
    }
    if (options.json) {
      console.log(JSON.stringify({ settings: result.settings.map((s) => ({ name: s.name,
        meanAccuracy: s.meanAccuracy, stdAccuracy: s.stdAccuracy,
        points: s.points.map((p) => ({ flopsM: p.flopsM, accuracy: p.accuracy })) })),
      kendallTau: result.kendallTau }));
    }
  }
  return code;
}

/** `sgnas prior-study`: generators from four priors of different quality (Fig 7b). */
export async function priorStudyCommand(argv: string[]): Promise<number> {
  const { options } = parseArgs(argv, PRIOR_STUDY);
  if (options.help) {
    console.log(`usage: sgnas prior-study --run DIR [options]\n\n${formatOptions(PRIOR_STUDY)}`);
    return 0;
  }
  const runDir = requireRun(options, 'prior-study');
  const onCpuPreset = readRunConfig(runDir).preset === 'fmnist';
  const generator = {
    ...(onCpuPreset ? CPU_PRIOR_STUDY.generator : {}),
    ...definedOptions({ epochs: options['generator-epochs'],
      stepsPerEpoch: options['generator-steps'] }),
  } as { epochs?: number; stepsPerEpoch?: number };
  const study = { candidates: num(options, 'candidates', CPU_PRIOR_STUDY.candidates),
    budgets: num(options, 'budgets', CPU_PRIOR_STUDY.budgets), seed: num(options, 'seed', 0),
    generator };
  const scoring = scoringFrom(options);
  const out = typeof options.out === 'string' ? path.resolve(options.out) : null;
  const config = { runDir: path.resolve(runDir), ...study, scoring, out };

  const { result, code } = await recorded<PriorStudyReport>(options, 'prior-study', config,
    async ({ runDir: own, hooks }) => {
      const ctx = await openTrainedRun(runDir, false, { log: hooks.log, signal: hooks.signal });
      try {
        const scorer = new ArchitectureScorer(ctx.supernet, ctx.data.validation, ctx.data.train,
          scoring);
        return await priorStudy(ctx, scorer, { ...study, dir: out ?? own }, hooks);
      } finally {
        closeSearch(ctx);
      }
    },
    (report, dir) => ({
      architectures: report.priors.flatMap((p) => p.budgets.flatMap((b) =>
        scoredRows(report.preset, report.classes, b.targetM, [b]))),
      artifacts: writeResults(dir, report),
    }));

  if (result) {
    for (const p of result.priors) {
      console.log(`${p.rank.padEnd(12)} prior ${(p.prior.accuracy * 100).toFixed(2)}% -> ` +
        `generated mean ${(p.meanAccuracy * 100).toFixed(2)}%, tau ` +
        `${p.kendallTau === null ? 'n/a' : p.kendallTau.toFixed(3)}, mean |error| ` +
        `${p.meanAbsErrorM.toFixed(4)} MFLOPs, generator ${p.generatorSeconds.toFixed(1)} s`);
    }
    if (options.json) {
      console.log(JSON.stringify({ budgetsM: result.budgetsM, priors: result.priors.map((p) => ({
        rank: p.rank, priorAccuracy: p.prior.accuracy, meanAccuracy: p.meanAccuracy,
        kendallTau: p.kendallTau, budgets: p.budgets.map((b) => ({ targetM: b.targetM,
          flopsM: b.flopsM, accuracy: b.accuracy })) })) }));
    }
  }
  return code;
}

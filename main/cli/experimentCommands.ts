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

import { CPU_EVOLUTION, CPU_RANDOM_SEARCH, type BaselineMethod }
  from '../engine/experiments/baselines.js';
import type { CompareSearchReport } from '../engine/experiments/compareSearch.js';
import { CPU_ABLATION } from '../engine/experiments/ablation.js';
import { CPU_PRIOR_STUDY } from '../engine/experiments/priorStudy.js';
import { DEFAULT_SCORING } from '../engine/experiments/scorer.js';
import { CPU_SCRATCH_TRAINING } from '../engine/experiments/trainScratch.js';
import { readRunConfig } from '../engine/pipeline/runFolder.js';
import { parseArchitectureJson, parseArchitectureText, formatArchitecture }
  from '../engine/space/architecture.js';
import { getPreset } from '../engine/space/presets.js';
import type { Architecture } from '../engine/space/types.js';
import { executeExperiment } from '../jobs/experimentJob.js';
import { baselineReport, ExperimentSetupError, planExperiment, type ExperimentPlaces,
  type ExperimentSpec, type KindResults } from '../jobs/experimentKinds.js';
import { RunRegistry, resolveDbPath } from '../registry/index.js';
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

/** The scoring fields of an experiment, from --validation-images and the recal options. */
function scoringFrom(options: Options) {
  return {
    validationImages: num(options, 'validation-images', DEFAULT_SCORING.validationImages ?? 200),
    recalBatches: num(options, 'recal-batches', DEFAULT_SCORING.recalibrationBatches),
    recalBatchSize: num(options, 'recal-batch-size', DEFAULT_SCORING.recalibrationBatchSize),
  };
}

/** Both baselines' options (compare-search runs both). */
function baselineFields(options: Options) {
  return {
    seed: num(options, 'seed', 0),
    samples: num(options, 'samples', CPU_RANDOM_SEARCH.samples),
    population: num(options, 'population', CPU_EVOLUTION.population),
    parents: num(options, 'parents', CPU_EVOLUTION.parents),
    generations: num(options, 'generations', CPU_EVOLUTION.generations),
    mutationRate: num(options, 'mutation-rate', CPU_EVOLUTION.mutationRate),
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

/** Plans an experiment; a problem the user can fix is a usage error. */
function plan<S extends ExperimentSpec>(spec: S, places: ExperimentPlaces) {
  try {
    return planExperiment(spec, places);
  } catch (err) {
    if (err instanceof ExperimentSetupError) throw new UsageError(err.message);
    throw err;
  }
}

/** Opens the registry, runs the experiment as a run of its kind, prints the outcome. */
async function recorded<S extends ExperimentSpec>(
  options: Options,
  spec: S,
  places: ExperimentPlaces,
): Promise<{ result: KindResults[S['kind']] | undefined; code: number }> {
  const { run: newRun, body, record } = plan(spec, places);
  const registry = await RunRegistry.open(resolveDbPath(options.db as string | undefined));
  try {
    await registry.markDeadRunsInterrupted();
    const { result, run } = await executeExperiment(registry, newRun, body, record, {
      log: (line) => console.log(line),
      signal: interruptSignal(),
      onRegistered: (r, dir) =>
        console.log(`run ${r.id} (${spec.kind}) registered; folder ${dir}`),
    });
    return { result, code: run.status === 'completed' ? 0 : 130 };
  } catch (err) {
    if (err instanceof ExperimentSetupError) throw new UsageError(err.message);
    throw err;
  } finally {
    registry.close();
  }
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
  const fields = baselineFields(options);
  const common = { budgets: num(options, 'budgets', 10),
    targetsM: options.targets as number[] | undefined, seed: fields.seed,
    ...scoringFrom(options) };
  const spec: ExperimentSpec = method === 'random'
    ? { kind: 'baseline-random', ...common, samples: fields.samples }
    : { kind: 'baseline-evolution', ...common, population: fields.population,
      parents: fields.parents, generations: fields.generations,
      mutationRate: fields.mutationRate };
  const { result, code } = await recorded(options, spec, { sourceDir: runDir });

  if (result) {
    const s = baselineReport(method, result as KindResults['baseline-random']);
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
  const runDir = options.run === undefined ? null : requireRun(options, 'compare-search');
  const spec: ExperimentSpec = { kind: 'compare-search', budgets: num(options, 'budgets', 10),
    search: searchConfigFromOptions(options), ...baselineFields(options),
    ...scoringFrom(options) };
  const { result, code } = await recorded(options, spec, { sourceDir: runDir });

  if (result) {
    printComparison(result);
    if (options.json) console.log(JSON.stringify(compareSummary(result)));
  }
  return code;
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
  const spec: ExperimentSpec = { kind: 'random-subnets', samples: num(options, 'samples', 100),
    budgets: num(options, 'budgets', 10), seed: num(options, 'seed', 0),
    ...scoringFrom(options) };
  const { result, code } = await recorded(options, spec, { sourceDir: runDir });
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
  const runDir = typeof options.run === 'string' ? requireRun(options, 'train-scratch') : null;
  const search = runDir ? readRunConfig(runDir)
    : searchConfigFromOptions({ preset: options.preset, data: options.data });
  let arch: Architecture;
  try {
    arch = readArchitecture(options.arch, getPreset(search.preset));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const spec: ExperimentSpec = {
    kind: 'train-scratch',
    architecture: formatArchitecture(arch),
    ...(runDir ? {} : { preset: search.preset, dataDir: search.dataDir }),
    epochs: num(options, 'epochs', CPU_SCRATCH_TRAINING.epochs),
    batchSize: num(options, 'batch-size', CPU_SCRATCH_TRAINING.batchSize),
    lr: num(options, 'lr', CPU_SCRATCH_TRAINING.lr),
    seed: num(options, 'seed', CPU_SCRATCH_TRAINING.seed),
    trainSubset: options['train-subset'] as number | undefined,
    testSubset: options['test-subset'] as number | undefined,
  };
  const exportDir = typeof options.export === 'string' ? path.resolve(options.export) : null;
  const { result, code } = await recorded(options, spec, { sourceDir: runDir, exportDir });
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

/** `sgnas ablation`: the FS/SBN ablation (Fig 6a). */
export async function ablationCommand(argv: string[]): Promise<number> {
  const { options } = parseArgs(argv, ABLATION);
  if (options.help) {
    console.log(`usage: sgnas ablation [options]\n\n${formatOptions(ABLATION)}`);
    return 0;
  }
  const spec: ExperimentSpec = { kind: 'ablation', search: ablationConfig(options),
    preset: (options.preset as string | undefined) ?? 'fmnist',
    samples: num(options, 'samples', CPU_ABLATION.samples),
    sampleSeed: num(options, 'sample-seed', 0), ...scoringFrom(options) };
  const outDir = typeof options.out === 'string' ? path.resolve(options.out) : null;
  const { result, code } = await recorded(options, spec, { sourceDir: null, outDir });

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
  const spec: ExperimentSpec = { kind: 'prior-study',
    candidates: num(options, 'candidates', CPU_PRIOR_STUDY.candidates),
    budgets: num(options, 'budgets', CPU_PRIOR_STUDY.budgets), seed: num(options, 'seed', 0),
    generatorEpochs: options['generator-epochs'] as number | undefined,
    generatorSteps: options['generator-steps'] as number | undefined,
    ...scoringFrom(options) };
  const outDir = typeof options.out === 'string' ? path.resolve(options.out) : null;
  const { result, code } = await recorded(options, spec, { sourceDir: runDir, outDir });

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

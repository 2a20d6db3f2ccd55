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
import type { SearchConfig } from '../engine/pipeline/config.js';
import { readRunConfig } from '../engine/pipeline/runFolder.js';
import { spaceOptionsOf } from '../engine/pipeline/search.js';
import { parseArchitectureJson, parseArchitectureText, formatArchitecture }
  from '../engine/space/architecture.js';
import { getPreset } from '../engine/space/presets.js';
import type { Architecture } from '../engine/space/types.js';
import { executeExperiment } from '../jobs/experimentJob.js';
import { baselineReport, ExperimentSetupError, planExperiment, RESUMABLE_EXPERIMENT_KINDS,
  type ExperimentPlaces, type ExperimentSpec, type KindResults } from '../jobs/experimentKinds.js';
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

const BUDGETS: OptionSpecs = {
  budgets: { kind: 'number', help: 'N budgets spread over the constraint interval (10)' },
  targets: { kind: 'list', help: 'explicit budgets in MFLOPs, comma-separated' },
};

const RANDOM_OPTIONS: OptionSpecs = {
  samples: { kind: 'number',
    help: `random search: architectures per budget (${CPU_RANDOM_SEARCH.samples}; paper 1000)` },
};

const EVOLUTION_OPTIONS: OptionSpecs = {
  population: { kind: 'number',
    help: `evolution: population (${CPU_EVOLUTION.population}; paper 50)` },
  parents: { kind: 'number',
    help: `evolution: top parents kept (${CPU_EVOLUTION.parents}; paper 10)` },
  generations: { kind: 'number',
    help: `evolution: generations (${CPU_EVOLUTION.generations}; paper 20)` },
  'mutation-rate': { kind: 'number',
    help: `evolution: chance a layer mutates (${CPU_EVOLUTION.mutationRate})` },
};

/** Each baseline takes only its own method's settings. */
const BASELINES: Record<BaselineMethod, OptionSpecs> = {
  random: { ...COMMON, ...BUDGETS, ...RANDOM_OPTIONS },
  evolution: { ...COMMON, ...BUDGETS, ...EVOLUTION_OPTIONS },
};

const COMPARE: OptionSpecs = { ...SEARCH_OPTIONS, ...COMMON, budgets: BUDGETS.budgets,
  ...RANDOM_OPTIONS, ...EVOLUTION_OPTIONS };

/** Options that only shape the search compare-search trains when no --run is given. */
const TRAINING_ONLY = Object.keys(SEARCH_OPTIONS).filter((name) => !(name in COMMON));

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

/**
 * The ranges the API's experimentInputSchema accepts for each count, so the
 * CLI refuses the same values with its own option names.
 */
const COUNT_RANGES: Record<string, [number, number]> = {
  budgets: [1, 200], samples: [1, 100_000], population: [2, 10_000], parents: [1, 10_000],
  generations: [1, 1000], 'validation-images': [1, 100_000], 'recal-batches': [0, 1000],
  'recal-batch-size': [1, 4096], epochs: [1, 1000], 'batch-size': [1, 4096],
  'train-subset': [1, 10_000_000], 'test-subset': [1, 10_000_000], candidates: [4, 1000],
  'generator-epochs': [1, 10_000], 'generator-steps': [1, 10_000], 'supernet-epochs': [1, 1000],
  seed: [0, 2 ** 31 - 1], 'sample-seed': [0, 2 ** 31 - 1],
};

/**
 * A count option: a whole number inside its range, else a usage error that
 * names the value, the range and a value to pass instead.
 *
 * @param fallback the value when the option is absent (undefined: stays absent).
 */
function num(options: Options, name: string, fallback: number): number;
function num(options: Options, name: string, fallback: undefined): number | undefined;
function num(options: Options, name: string, fallback: number | undefined): number | undefined {
  const value = options[name];
  if (typeof value !== 'number') return fallback;

  const [min, max] = COUNT_RANGES[name] ?? [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER];
  const example = fallback === undefined ? '' : `, e.g. --${name} ${fallback}`;
  if (!Number.isInteger(value)) {
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, got ` +
      `${value}: pass a whole number${example}`);
  }
  if (value < min || value > max) {
    throw new UsageError(`--${name} must be from ${min} to ${max}, got ${value}: pass a ` +
      `value in that range${example}`);
  }
  return value;
}

/** A real-valued option inside (low, high] or [low, high], else a usage error. */
function real(options: Options, name: string, fallback: number,
  range: { low: number; high: number; lowOpen: boolean }): number {
  const value = options[name];
  if (typeof value !== 'number') return fallback;

  const { low, high, lowOpen } = range;
  if (!Number.isFinite(value) || (lowOpen ? value <= low : value < low) || value > high) {
    throw new UsageError(`--${name} must be ${lowOpen ? 'above' : 'at least'} ${low} and at ` +
      `most ${high}, got ${value}: pass e.g. --${name} ${fallback}`);
  }
  return value;
}

/** Explicit --targets: positive MFLOPs (their range is checked against the run's preset). */
function targetsOf(options: Options): number[] | undefined {
  const targets = options.targets as number[] | undefined;
  const bad = targets?.find((t) => !(Number.isFinite(t) && t > 0));
  if (bad !== undefined) {
    throw new UsageError(`--targets must be positive budgets in MFLOPs, got ${bad}: pass ` +
      'budgets inside the run\'s constraint interval, e.g. --targets 0.9,1.2');
  }
  return targets;
}

/** The scoring fields of an experiment, from --validation-images and the recal options. */
function scoringFrom(options: Options) {
  return {
    validationImages: num(options, 'validation-images', DEFAULT_SCORING.validationImages ?? 200),
    recalBatches: num(options, 'recal-batches', DEFAULT_SCORING.recalibrationBatches),
    recalBatchSize: num(options, 'recal-batch-size', DEFAULT_SCORING.recalibrationBatchSize),
  };
}

function randomFields(options: Options) {
  return { samples: num(options, 'samples', CPU_RANDOM_SEARCH.samples) };
}

function evolutionFields(options: Options) {
  const fields = {
    population: num(options, 'population', CPU_EVOLUTION.population),
    parents: num(options, 'parents', CPU_EVOLUTION.parents),
    generations: num(options, 'generations', CPU_EVOLUTION.generations),
    mutationRate: real(options, 'mutation-rate', CPU_EVOLUTION.mutationRate,
      { low: 0, high: 1, lowOpen: false }),
  };
  if (fields.parents > fields.population) {
    throw new UsageError(`--parents ${fields.parents} exceeds --population ` +
      `${fields.population}: evolution keeps its top parents out of its population; pass ` +
      `--parents ${fields.population} or less, or raise --population`);
  }
  return fields;
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

/**
 * Ctrl-C stops the experiment after its current evaluation and leaves the run
 * interrupted, as a search's Ctrl-C does; `runs cancel` (the registry's
 * cancel flag) leaves it cancelled.
 */
function interruptSignal(): { signal: AbortSignal; interrupted: () => boolean } {
  const controller = new AbortController();
  let interrupted = false;
  process.once('SIGINT', () => {
    console.error('interrupted: stopping after the current evaluation');
    interrupted = true;
    controller.abort();
    process.once('SIGINT', () => process.exit(130));
  });
  return { signal: controller.signal, interrupted: () => interrupted };
}

/** What to do with an experiment run Ctrl-C left interrupted. */
function interruptedHint(runId: string, kind: ExperimentSpec['kind']): string {
  return RESUMABLE_EXPERIMENT_KINDS.includes(kind)
    ? `run ${runId} is interrupted; resume it with: npm run sgnas -- runs resume ${runId}`
    : `run ${runId} is interrupted and keeps what finished; a ${kind} run cannot resume: ` +
      `start it again with the same settings to redo it`;
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
    const stop = interruptSignal();
    const { result, run } = await executeExperiment(registry, newRun, body, record, {
      log: (line) => console.log(line),
      signal: stop.signal,
      interruptedOnAbort: stop.interrupted,
      onRegistered: (r, dir) =>
        console.log(`run ${r.id} (${spec.kind}) registered; folder ${dir}`),
    });
    if (run.status === 'interrupted') console.error(interruptedHint(run.id, spec.kind));
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
  const method: BaselineMethod = command === 'baseline-random' ? 'random' : 'evolution';
  const specs = BASELINES[method];
  const { options } = parseArgs(argv, specs);
  if (options.help) {
    console.log(`usage: sgnas ${command} --run DIR [options]\n\n${formatOptions(specs)}`);
    return 0;
  }
  const runDir = requireRun(options, command);
  const common = { budgets: num(options, 'budgets', 10), targetsM: targetsOf(options),
    seed: num(options, 'seed', 0), ...scoringFrom(options) };
  const spec: ExperimentSpec = method === 'random'
    ? { kind: 'baseline-random', ...common, ...randomFields(options) }
    : { kind: 'baseline-evolution', ...common, ...evolutionFields(options) };
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
  const ignored = TRAINING_ONLY.filter((name) => options[name] !== undefined);
  if (runDir && ignored.length > 0) {
    throw new UsageError(`--run ${runDir} uses that run's trained supernet and generator, so ` +
      `${ignored.map((n) => `--${n}`).join(', ')} (settings of the search trained without ` +
      '--run) would be ignored: drop them, or drop --run to train a new search with them');
  }
  const spec: ExperimentSpec = { kind: 'compare-search', budgets: num(options, 'budgets', 10),
    ...(runDir ? {} : { search: searchConfigFromOptions(options) }),
    seed: num(options, 'seed', 0), ...randomFields(options), ...evolutionFields(options),
    ...scoringFrom(options) };
  const { result, code } = await recorded(options, spec, { sourceDir: runDir });

  if (result) {
    printComparison(result);
    if (options.json) console.log(JSON.stringify(compareSummary(result)));
  }
  return code;
}

/**
 * The first line of compare-search's text report. The supernet's training
 * time is shown when the run folder recorded it, else said to be unknown.
 */
export function comparisonHeading(report: Pick<CompareSearchReport, 'budgetsM' |
  'supernetTrainSeconds'>): string {
  const training = report.supernetTrainSeconds === null
    ? 'its training time was not recorded in the run folder and is not counted'
    : `its training ${report.supernetTrainSeconds.toFixed(1)} s is not counted`;
  return `search cost for ${report.budgetsM.length} budgets (supernet shared; ${training}):`;
}

function printComparison(report: CompareSearchReport): void {
  const line = (name: string, m: { searchSeconds: number; budgets: { accuracy: number }[] }) => {
    const mean = m.budgets.reduce((s, b) => s + b.accuracy, 0) / m.budgets.length;
    console.log(`${name.padEnd(10)} search ${m.searchSeconds.toFixed(1).padStart(8)} s, mean ` +
      `supernet accuracy ${(mean * 100).toFixed(2)}%`);
  };
  console.log(comparisonHeading(report));
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

/** Whether --arch names a file rather than giving compact text ("33---- 557--- ..."). */
function looksLikeFile(value: string): boolean {
  return /[/\\]/.test(value) || /\.(json|txt)$/i.test(value);
}

/**
 * Reads --arch (compact text, or a .json / .txt file) under the space rules
 * of the search it belongs to (forced sampling: skips only at the end).
 */
function readArchitecture(value: string, search: SearchConfig): Architecture {
  const preset = getPreset(search.preset);
  const rules = spaceOptionsOf(search);
  if (!existsSync(value)) {
    if (looksLikeFile(value)) {
      throw new UsageError(`--arch ${value}: file not found; pass an existing .json or .txt ` +
        'file, or the architecture as compact text ("33---- 557--- ...")');
    }
    return parseArchitectureText(value, preset, rules);
  }

  const trimmed = readFileSync(value, 'utf8').trim();
  if (trimmed.startsWith('{')) {
    const parsed = JSON.parse(trimmed) as { layers?: unknown };
    return parseArchitectureJson({ layers: parsed.layers }, preset, rules);
  }
  return parseArchitectureText(trimmed, preset, rules);
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
    arch = readArchitecture(options.arch, search);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`--arch: ${(err as Error).message}`);
  }
  const spec: ExperimentSpec = {
    kind: 'train-scratch',
    architecture: formatArchitecture(arch),
    ...(runDir ? {} : { preset: search.preset, dataDir: search.dataDir }),
    epochs: num(options, 'epochs', CPU_SCRATCH_TRAINING.epochs),
    batchSize: num(options, 'batch-size', CPU_SCRATCH_TRAINING.batchSize),
    lr: real(options, 'lr', CPU_SCRATCH_TRAINING.lr, { low: 0, high: 10, lowOpen: true }),
    seed: num(options, 'seed', CPU_SCRATCH_TRAINING.seed),
    trainSubset: num(options, 'train-subset', undefined),
    testSubset: num(options, 'test-subset', undefined),
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
  const samples = num(options, 'samples', CPU_ABLATION.samples);
  if (samples < 2) {
    throw new UsageError(`--samples must be from 2 to 100000 for the ablation (its rank ` +
      `correlations need two architectures), got ${samples}: pass e.g. --samples ` +
      `${CPU_ABLATION.samples}`);
  }
  const spec: ExperimentSpec = { kind: 'ablation', search: ablationConfig(options),
    preset: (options.preset as string | undefined) ?? 'fmnist',
    samples,
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
    generatorEpochs: num(options, 'generator-epochs', undefined),
    generatorSteps: num(options, 'generator-steps', undefined),
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

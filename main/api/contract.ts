/**
 * The workbench API: every call the renderer can make, the zod schema of its
 * payload and the type of its result. Both transports (Electron IPC and the
 * local HTTP host) serve exactly these calls through the same handlers, and
 * the renderer's client is typed from this file.
 *
 * This module holds data and types only (zod, no Node or Electron imports),
 * so the renderer may import it.
 */
import { z } from 'zod';

import { searchConfigSchema, type SearchConfig } from '../engine/pipeline/config.js';
import type {
  AblationReport,
  CompareSearchReport,
  PriorStudyReport,
  RandomSubnetsReport,
  ScratchResult,
} from '../engine/experiments/reports.js';
import type { SubBlockOp } from '../engine/space/types.js';
import type { JobProgress } from '../jobs/progress.js';
import { API_CALL_NAMES } from './names.js';

// ---------------------------------------------------------------- results --

/** A run as the Runs table shows it. */
export interface RunSummary {
  id: string;
  kind: string;
  name: string;
  status: RunStatusName;
  /** 0..1 */
  progress: number;
  stage: string | null;
  preset: string | null;
  /** The constraint interval searched, in MFLOPs, when the run has one. */
  budgets: { lowM: number; highM: number } | null;
  /** Kendall tau of the run's latest sweep. */
  tau: number | null;
  /** Best accuracy among the run's recorded architectures (0..1). */
  bestAccuracy: number | null;
  backend: string | null;
  forcedSampling: boolean | null;
  shadowBatchNorm: boolean | null;
  createdAt: number;
  startedAt: number | null;
  endedAt: number | null;
  error: string | null;
  parentRunId: string | null;
}

export type RunStatusName =
  | 'queued'
  | 'running'
  | 'completed'
  | 'failed'
  | 'cancelled'
  | 'interrupted';

/** A stored file of a run. */
export interface ArtifactInfo {
  kind: string;
  path: string;
  sha256: string;
  bytes: number;
  createdAt: number;
}

/** Everything the Run detail view shows besides metrics. */
export interface RunDetail extends RunSummary {
  config: unknown;
  seed: number | null;
  libraryVersions: Record<string, string>;
  artifacts: ArtifactInfo[];
}

/** One metric value of a run's time series. */
export interface MetricPoint {
  id: number;
  stage: string;
  epoch: number;
  step: number;
  name: string;
  value: number;
  at: number;
}

/** An architecture a run recorded (generated, best found, or a sweep point). */
export interface ArchitectureRecord {
  id: number;
  runId: string;
  budgetM: number | null;
  compact: string;
  flopsM: number;
  params: number;
  accuracy: number | null;
}

/** A sweep evaluation: target vs generated FLOPs and its rank statistics. */
export interface SweepRecord {
  id: number;
  runId: string;
  tau: number;
  tauP: number | null;
  pearson: number;
  pearsonP: number | null;
  n: number;
  createdAt: number;
  /** The sweep's points: the run's architectures that carry a budget. */
  points: { targetM: number; flopsM: number }[];
}

/** A search-space preset, with what the New search form needs about it. */
export interface PresetInfo {
  name: string;
  layers: number;
  inputSize: number;
  inputChannels: number;
  constraint: { lowM: number; highM: number };
  /** Smallest and largest FLOPs of the space (minExpansion 2). */
  flopsRangeM: { minM: number; maxM: number };
  /** A complete, valid search configuration for this preset. */
  defaultConfig: SearchConfig;
}

/** One searchable layer of an architecture, as the Architecture view draws it. */
export interface LayerDetail {
  /** 0-based layer index. */
  index: number;
  ops: SubBlockOp[];
  compact: string;
  expansionRate: number;
  cIn: number;
  cOut: number;
  stride: number;
  inSize: number;
  flopsM: number;
  params: number;
}

/** An architecture resolved against its preset: per-layer and total costs. */
export interface ArchitectureDetail {
  preset: string;
  compact: string;
  classes: number;
  layers: LayerDetail[];
  /** Stem, first block and head: the same for every architecture. */
  fixedFlopsM: number;
  fixedParams: number;
  flopsM: number;
  params: number;
}

/** One problem with a search configuration, with where it is. */
export interface ConfigProblem {
  path: string;
  message: string;
}

export interface ConfigCheck {
  ok: boolean;
  problems: ConfigProblem[];
}

/** A prior of the prior pool, with its FLOPs. */
export interface PriorPoolEntry {
  compact: string;
  flopsM: number;
}

/** A trained generator the Generate view can run. */
export interface GeneratorInfo {
  id: string;
  label: string;
  source: 'run' | 'resources';
  preset: string;
  constraint: { lowM: number; highM: number };
}

/** An architecture the generator produced for a budget. */
export interface GeneratedItem {
  budgetM: number;
  compact: string;
  flopsM: number;
  params: number;
}

// ---------------------------------------------------- experiment results --

export type { AblationReport, CompareSearchReport, PriorStudyReport, RandomSubnetsReport,
  ScratchResult };

/** What a baseline run (random or evolutionary search per budget) found for one budget. */
export interface BaselineBudgetResult {
  targetM: number;
  flopsM: number;
  /** Supernet validation accuracy in [0, 1] of the best architecture found. */
  accuracy: number;
  /** Architectures scored for this budget. */
  evaluations: number;
  seconds: number;
  /** The best architecture, in compact text. */
  architecture: string;
}

/** results/experiment.json of a baseline-random or baseline-evolution run. */
export interface BaselineReport {
  method: 'random' | 'evolution';
  /** Total search seconds over all budgets. */
  searchSeconds: number;
  budgets: BaselineBudgetResult[];
}

/** The parsed results/experiment.json of a completed experiment run, by run kind. */
export type ExperimentResult =
  | { runId: string; kind: 'baseline-random' | 'baseline-evolution'; result: BaselineReport }
  | { runId: string; kind: 'compare-search'; result: CompareSearchReport }
  | { runId: string; kind: 'random-subnets'; result: RandomSubnetsReport }
  | { runId: string; kind: 'ablation'; result: AblationReport }
  | { runId: string; kind: 'prior-study'; result: PriorStudyReport }
  | { runId: string; kind: 'train-scratch'; result: ScratchResult };

// ----------------------------------------------------------------- events --

/** Live training progress of a run, as the job runner reports it. */
export type ProgressEvent = JobProgress;

/** What the main process pushes to the renderer while runs execute. */
export type WorkbenchEvent =
  | { type: 'progress'; event: ProgressEvent }
  | { type: 'status'; event: { runId: string; status: RunStatusName; error?: string | null } }
  | { type: 'log'; event: { runId: string; line: string } };

// --------------------------------------------------------------- payloads --

/** Run ids are opaque, but limited to characters that are safe in a path. */
export const runIdSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9._:-]+$/, 'a run id uses only letters, digits, ".", "_", ":" and "-"');

const runRef = z.strictObject({ runId: runIdSchema });
const empty = z.strictObject({});
const presetName = z.string().min(1).max(64);
const budgetM = z.number().positive().max(1e6);

// ------------------------------------------------------ experiment inputs --

/** The run kinds an experiment can be started as (the paper's experiments). */
export const EXPERIMENT_KINDS = [
  'baseline-random',
  'baseline-evolution',
  'compare-search',
  'random-subnets',
  'ablation',
  'prior-study',
  'train-scratch',
] as const;

export type ExperimentKind = (typeof EXPERIMENT_KINDS)[number];

const count = (min: number, max: number) => z.number().int().min(min).max(max);
const seed = z.number().int().min(0).max(2 ** 31 - 1);

/**
 * How architectures are scored on the supernet (the CLI's --validation-images,
 * --recal-batches, --recal-batch-size; defaults DEFAULT_SCORING).
 */
const scoringFields = {
  validationImages: count(1, 100_000).default(200),
  recalBatches: count(0, 1000).default(1),
  recalBatchSize: count(1, 4096).default(64),
};

/** The baselines' settings (CPU defaults: CPU_RANDOM_SEARCH, CPU_EVOLUTION). */
const randomFields = { samples: count(1, 100_000).default(100) };
const evolutionFields = {
  population: count(2, 10_000).default(20),
  parents: count(1, 10_000).default(5),
  generations: count(1, 1000).default(5),
  mutationRate: z.number().min(0).max(1).default(0.1),
};

/** Evolution keeps its top parents out of its population. */
const parentsWithinPopulation = {
  path: ['parents'],
  error: (issue: { input: unknown }) => {
    const { parents, population } = issue.input as { parents: number; population: number };
    return `parents ${parents} exceeds population ${population}: evolution keeps its top ` +
      `parents out of its population; pass parents <= ${population} or raise population`;
  },
};

/** N budgets spread over the constraint interval, or explicit targets in MFLOPs. */
const budgetFields = {
  budgets: count(1, 200).default(10),
  targetsM: z.array(budgetM).min(1).max(200).optional(),
};

/**
 * One experiment to start, per run kind. Each mirrors its CLI command's
 * options (camelCase) with the same defaults; `sourceRunId` is the completed
 * search run whose supernet (and generator) the experiment uses, the CLI's
 * --run folder. Search seeds: budget i of a baseline uses seed + i.
 */
export const experimentInputSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('baseline-random'),
    sourceRunId: runIdSchema,
    ...budgetFields,
    ...randomFields,
    seed: seed.default(0),
    ...scoringFields,
  }),
  z
    .strictObject({
      kind: z.literal('baseline-evolution'),
      sourceRunId: runIdSchema,
      ...budgetFields,
      ...evolutionFields,
      seed: seed.default(0),
      ...scoringFields,
    })
    .refine((v) => v.parents <= v.population, parentsWithinPopulation),
  z
    .strictObject({
      kind: z.literal('compare-search'),
      /** Absent: a supernet and generator are trained first, from `search`. */
      sourceRunId: runIdSchema.optional(),
      /** The search to train when no sourceRunId (default: the fmnist preset's). */
      search: searchConfigSchema.optional(),
      budgets: count(1, 200).default(10),
      ...randomFields,
      ...evolutionFields,
      seed: seed.default(0),
      ...scoringFields,
    })
    .refine((v) => v.sourceRunId === undefined || v.search === undefined, {
      path: ['search'],
      message: 'give either sourceRunId (use its supernet) or search (train one), not both',
    })
    .refine((v) => v.parents <= v.population, parentsWithinPopulation),
  z.strictObject({
    kind: z.literal('random-subnets'),
    sourceRunId: runIdSchema,
    /** K random architectures scored. */
    samples: count(1, 100_000).default(100),
    /** Budgets the generator is asked for. */
    budgets: count(1, 200).default(10),
    seed: seed.default(0),
    ...scoringFields,
  }),
  z.strictObject({
    kind: z.literal('ablation'),
    /**
     * The base configuration of the four supernets (their forcedSampling and
     * shadowBatchNorm are replaced by each setting's). Absent: the preset's
     * defaults, with the CPU schedule (CPU_ABLATION) on the fmnist preset.
     */
    search: searchConfigSchema.optional(),
    preset: presetName.default('fmnist'),
    dataDir: z.string().min(1).max(4096).optional(),
    /** Seed of the data split, the weights and training (the preset default, 1). */
    seed: seed.optional(),
    supernetEpochs: count(1, 1000).optional(),
    trainSubset: count(1, 10_000_000).optional(),
    batchSize: count(1, 4096).optional(),
    lr: z.number().positive().max(10).optional(),
    /** K random architectures scored on every supernet. */
    samples: count(2, 100_000).default(30),
    /** Seed of the K architectures. */
    sampleSeed: seed.default(0),
    ...scoringFields,
  }),
  z.strictObject({
    kind: z.literal('prior-study'),
    sourceRunId: runIdSchema,
    /** Random priors scored before four are picked (CPU_PRIOR_STUDY). */
    candidates: count(4, 1000).default(12),
    budgets: count(1, 200).default(10),
    /** Candidate prior i is the random prior of seed + i. */
    seed: seed.default(0),
    /** Epochs of each generator (the fmnist default 50; else the source run's). */
    generatorEpochs: count(1, 10_000).optional(),
    /** Steps per generator epoch (the fmnist default 4; else the source run's). */
    generatorSteps: count(1, 10_000).optional(),
    ...scoringFields,
  }),
  z.strictObject({
    kind: z.literal('train-scratch'),
    /** The architecture in compact text ("33---- 557--- ..."). */
    architecture: z.string().min(1).max(10_000),
    /** Its preset and data come from this run; absent: `preset` and `dataDir`. */
    sourceRunId: runIdSchema.optional(),
    preset: presetName.optional(),
    dataDir: z.string().min(1).max(4096).optional(),
    epochs: count(1, 1000).default(3),
    batchSize: count(1, 4096).default(128),
    lr: z.number().positive().max(10).default(0.1),
    seed: seed.default(1),
    /** Train on a balanced subset of N images (all when absent). */
    trainSubset: count(1, 10_000_000).optional(),
    /** Test on a balanced subset of N images (all when absent). */
    testSubset: count(1, 10_000_000).optional(),
  }),
]);

/** A validated experiment (defaults applied). */
export type ExperimentInput = z.output<typeof experimentInputSchema>;

/** An experiment as a caller may send it (defaults omitted). */
export type ExperimentInputPayload = z.input<typeof experimentInputSchema>;

/**
 * Declares one call: `call<Result>()(payloadSchema)`. The result type is a
 * phantom (its value is never read); currying lets TypeScript infer the
 * payload schema's type while the result type is written out.
 */
function call<R>() {
  return <P extends z.ZodType>(payload: P): { payload: P; result: R } => ({
    payload,
    result: undefined as R,
  });
}

/** Every call of the workbench API. */
export const API = {
  listRuns: call<RunSummary[]>()(
    z.strictObject({ kind: z.string().max(64).optional(), status: z.string().max(32).optional() }),
  ),
  getRun: call<RunDetail>()(runRef),
  runMetrics: call<MetricPoint[]>()(
    z.strictObject({ runId: runIdSchema, afterId: z.number().int().min(0).optional() }),
  ),
  runLog: call<string[]>()(runRef),
  runArchitectures: call<ArchitectureRecord[]>()(runRef),
  runSweeps: call<SweepRecord[]>()(runRef),
  listPresets: call<PresetInfo[]>()(empty),
  checkSearchConfig: call<ConfigCheck>()(z.strictObject({ config: z.unknown() })),
  startSearch: call<{ runId: string }>()(z.strictObject({ config: searchConfigSchema })),
  cancelRun: call<{ runId: string }>()(runRef),
  resumeRun: call<{ runId: string }>()(runRef),
  startExperiment: call<{ runId: string }>()(
    z.strictObject({ experiment: experimentInputSchema }),
  ),
  experimentResult: call<ExperimentResult>()(runRef),
  describeArchitecture: call<ArchitectureDetail>()(
    z.strictObject({
      preset: presetName,
      text: z.string().min(1).max(10_000),
      classes: z.number().int().min(2).max(100_000).optional(),
    }),
  ),
  priorPool: call<PriorPoolEntry[]>()(
    z.strictObject({
      preset: presetName,
      seed: z.number().int(),
      size: z.number().int().min(1).max(64),
      forcedSampling: z.boolean(),
      minExpansion: z.number().int().min(1).max(6),
    }),
  ),
  listGenerators: call<GeneratorInfo[]>()(empty),
  generate: call<GeneratedItem[]>()(
    z.strictObject({
      generatorId: z.string().min(1).max(512),
      budgetsM: z.array(budgetM).min(1).max(200),
    }),
  ),
};

/** The name of an API call. */
export type ApiName = keyof typeof API;

/** All call names, for transports that register one route per call. */
export const API_NAMES: readonly ApiName[] = API_CALL_NAMES;

// Compile-time check that names.ts and API list the same calls, both ways.
type SameNames = [ApiName] extends [(typeof API_CALL_NAMES)[number]]
  ? [(typeof API_CALL_NAMES)[number]] extends [ApiName]
    ? true
    : false
  : false;
const namesMatch: SameNames = true;
void namesMatch;

/** What a caller sends for a call (before validation). */
export type ApiPayload<N extends ApiName> = z.input<(typeof API)[N]['payload']>;

/** A call's payload after validation (defaults applied). */
export type ApiParsed<N extends ApiName> = z.output<(typeof API)[N]['payload']>;

/** What a call resolves to. */
export type ApiResult<N extends ApiName> = (typeof API)[N]['result'];

/** Why a call failed; transports map these to status codes. */
export type ApiErrorCode =
  | 'invalid-payload'
  | 'unknown-call'
  | 'not-found'
  | 'conflict'
  | 'failed';

/** The envelope both transports carry, so errors arrive intact. */
export type ApiResponse<T> =
  | { ok: true; value: T }
  | { ok: false; error: { code: ApiErrorCode; message: string } };

/** Whether a string names an API call (guards transports against others). */
export function isApiName(name: string): name is ApiName {
  return Object.hasOwn(API, name);
}

export { IPC_EVENT_CHANNEL, IPC_PREFIX } from './names.js';

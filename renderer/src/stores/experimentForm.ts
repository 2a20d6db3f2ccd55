/**
 * The Experiments form, read off the API's own schema: which fields each
 * run kind takes, their defaults, and what is wrong with a draft. Deriving
 * the form from `experimentInputSchema` keeps it in step with the service,
 * which validates the same payload again.
 */
import { z } from 'zod';

import {
  EXPERIMENT_KINDS,
  experimentInputSchema,
  type ExperimentKind,
} from '../../../main/api/contract';

/** How a field is edited. */
export type FieldInput = 'integer' | 'number' | 'text' | 'list' | 'run';

/** One field of a kind's form. */
export interface ExperimentField {
  /** The payload key (camelCase, as the schema names it). */
  name: string;
  label: string;
  input: FieldInput;
  /** Whether the schema needs a value (no default, not optional). */
  required: boolean;
  /** The schema's default, when it has one. */
  defaultValue: unknown;
}

/** A draft of the form: the kind and whatever the fields hold. */
export type ExperimentDraft = { kind: ExperimentKind } & Record<string, unknown>;

/** What each kind is, as the kind picker says it. */
export const KIND_LABELS: Record<ExperimentKind, string> = {
  'baseline-random': 'Random search baseline',
  'baseline-evolution': 'Evolution baseline',
  'compare-search': 'Search-cost comparison (SGNAS vs baselines)',
  'random-subnets': 'Random subnets vs generated',
  ablation: 'FS / SBN ablation',
  'prior-study': 'Prior study',
  'train-scratch': 'Train from scratch',
};

/** Field labels, as the CLI's help words them; a kind may word a field its own way. */
const LABELS: Record<string, string> = {
  sourceRunId: 'source search run',
  budgets: 'budgets (N, spread over the constraint)',
  targetsM: 'explicit budgets in MFLOPs (comma-separated; overrides N)',
  samples: 'random architectures per budget',
  population: 'evolution population',
  parents: 'evolution parents kept',
  generations: 'evolution generations',
  mutationRate: 'evolution mutation rate (per layer)',
  seed: 'seed',
  validationImages: 'validation images per score',
  recalBatches: 'BN recalibration batches',
  recalBatchSize: 'images per recalibration batch',
  preset: 'preset',
  dataDir: 'data folder',
  supernetEpochs: 'supernet epochs',
  trainSubset: 'training images (balanced subset)',
  testSubset: 'test images (balanced subset)',
  batchSize: 'batch size',
  lr: 'learning rate',
  sampleSeed: 'seed of the random architectures',
  candidates: 'candidate priors scored',
  generatorEpochs: 'generator epochs',
  generatorSteps: 'generator steps per epoch',
  architecture: 'architecture (compact text)',
  epochs: 'epochs',
};

const KIND_LABEL_OVERRIDES: Partial<Record<ExperimentKind, Record<string, string>>> = {
  'compare-search': { samples: 'random search: architectures per budget' },
  'random-subnets': { samples: 'random architectures (K)', budgets: 'generator budgets' },
  ablation: { samples: 'random architectures scored on every supernet (K)',
    seed: 'seed of data split, weights and training' },
  'prior-study': { budgets: 'budgets every generator is compared at',
    seed: 'seed (candidate i is the random prior of seed + i)' },
};

/** The schema branch of a kind. */
function branchOf(kind: ExperimentKind): z.ZodObject {
  const branch = experimentInputSchema.options.find(
    (o) => (o.shape.kind as z.ZodLiteral).value === kind,
  );
  if (!branch) {
    throw new Error(`the experiment schema has no branch for kind "${kind}"; known kinds: ` +
      EXPERIMENT_KINDS.join(', '));
  }
  return branch as unknown as z.ZodObject;
}

/** The type under a field's default/optional wrappers. */
function innerType(field: z.ZodType): z.ZodType {
  let inner: z.ZodType = field;
  while (inner instanceof z.ZodDefault || inner instanceof z.ZodOptional) {
    inner = inner.unwrap() as z.ZodType;
  }
  return inner;
}

function inputOf(name: string, inner: z.ZodType): FieldInput | null {
  if (name === 'sourceRunId') return 'run';
  if (inner instanceof z.ZodNumber) return inner.isInt ? 'integer' : 'number';
  if (inner instanceof z.ZodString) return 'text';
  if (inner instanceof z.ZodArray) return 'list';
  // A whole search configuration (compare-search, ablation) is the New search
  // form's job; here the kind's defaults for it apply.
  return null;
}

/**
 * The editable fields of a kind, in the schema's order.
 *
 * @example experimentFields('random-subnets')[0] // { name: 'sourceRunId', input: 'run', ... }
 */
export function experimentFields(kind: ExperimentKind): ExperimentField[] {
  const shape = branchOf(kind).shape as Record<string, z.ZodType>;
  const fields: ExperimentField[] = [];
  for (const [name, field] of Object.entries(shape)) {
    if (name === 'kind') continue;
    const input = inputOf(name, innerType(field));
    if (!input) continue;

    // A default answers undefined with its value, an optional with undefined;
    // a required field rejects it.
    const empty = field.safeParse(undefined);
    fields.push({
      name,
      label: KIND_LABEL_OVERRIDES[kind]?.[name] ?? LABELS[name] ?? name,
      input,
      required: !empty.success,
      defaultValue: empty.success ? empty.data : undefined,
    });
  }
  return fields;
}

/** A fresh draft of a kind: its defaults, and the source run when it takes one. */
export function defaultDraft(kind: ExperimentKind, sourceRunId?: string): ExperimentDraft {
  const draft: ExperimentDraft = { kind };
  for (const f of experimentFields(kind)) {
    if (f.input === 'run') {
      if (sourceRunId !== undefined) draft[f.name] = sourceRunId;
    } else if (f.defaultValue !== undefined) {
      draft[f.name] = f.defaultValue;
    }
  }
  return draft;
}

/** The draft as the API takes it: unset optional fields left out. */
export function experimentPayload(draft: ExperimentDraft): ExperimentDraft {
  return Object.fromEntries(
    Object.entries(draft).filter(([, v]) => v !== undefined && v !== ''),
  ) as ExperimentDraft;
}

/** A bound as the form words it: 100000 -> "100,000". */
function bound(value: number): string {
  return value.toLocaleString('en');
}

/**
 * What a number schema accepts, in words: "a whole number between 1 and 200",
 * "a positive number up to 10". An exclusive lower bound is found by probing
 * the schema with its own minimum (zod reports both kinds as `minValue`).
 */
export function numberRule(schema: z.ZodNumber): string {
  const min = schema.minValue;
  const max = schema.maxValue;
  const upTo = max !== null && Number.isFinite(max) ? ` up to ${bound(max)}` : '';
  if (min === 0 && !schema.safeParse(0).success) {
    return `a positive ${schema.isInt ? 'whole number' : 'number'}${upTo}`;
  }

  const noun = schema.isInt ? 'a whole number' : 'a number';
  const hasMin = min !== null && Number.isFinite(min);
  const hasMax = max !== null && Number.isFinite(max);
  if (hasMin && hasMax) return `${noun} between ${bound(min)} and ${bound(max)}`;
  if (hasMin) return `${noun} of at least ${bound(min)}`;
  return hasMax ? `${noun} of at most ${bound(max)}` : noun;
}

/** Whether a draft value counts as not given (an emptied number field holds NaN). */
function isEmpty(value: unknown): boolean {
  return value === undefined || value === '' || (typeof value === 'number' && Number.isNaN(value));
}

/** One schema issue of a field in plain words; zod's own text only as a last resort. */
function plainProblem(issue: z.core.$ZodIssue, field: z.ZodType | undefined,
  value: unknown): string {
  if (!field || issue.code === 'custom') return issue.message;
  const inner = innerType(field);
  if (issue.path.length === 1 && isEmpty(value)) return 'required';

  if (inner instanceof z.ZodNumber) return `must be ${numberRule(inner)}`;
  if (inner instanceof z.ZodArray) return listProblem(issue, inner);
  if (inner instanceof z.ZodString) {
    if (issue.code === 'too_big') {
      return `must be at most ${bound(Number(issue.maximum))} characters`;
    }
    if (issue.code === 'too_small') return 'required';
  }
  return issue.message;
}

/** A list field's issue: about one item ("item 2 must be ...") or the list's length. */
function listProblem(issue: z.core.$ZodIssue, list: z.ZodArray): string {
  const index = issue.path[1];
  if (typeof index === 'number') {
    const item = innerType(list.element as z.ZodType);
    const rule = item instanceof z.ZodNumber ? numberRule(item) : 'valid';
    return `item ${index + 1} must be ${rule}`;
  }

  if (issue.code === 'too_small') return `give at least ${bound(Number(issue.minimum))} values`;
  if (issue.code === 'too_big') return `give at most ${bound(Number(issue.maximum))} values`;
  return issue.message;
}

/**
 * What the schema finds wrong with a draft, by field name ('experiment' for
 * problems of the whole), in plain words: "required", "must be a whole number
 * between 1 and 200", "item 2 must be a positive number up to 1,000,000".
 * Empty when it would be accepted.
 */
export function experimentProblems(draft: ExperimentDraft): Record<string, string[]> {
  const parsed = experimentInputSchema.safeParse(experimentPayload(draft));
  if (parsed.success) return {};
  const shape = branchOf(draft.kind).shape as Record<string, z.ZodType>;
  const byField: Record<string, string[]> = {};
  for (const issue of parsed.error.issues) {
    const field = issue.path.length > 0 ? String(issue.path[0]) : 'experiment';
    const message = plainProblem(issue, shape[field], draft[field]);
    const held = (byField[field] ??= []);
    // Two issues of one field can read alike in plain words ("required" twice).
    if (!held.includes(message)) held.push(message);
  }
  return byField;
}

/**
 * Reads a comma-separated list of numbers ("1.2, 1.5"); undefined for empty
 * text. A piece that is not a number stays NaN so the schema explains it.
 */
export function parseNumberList(text: string): number[] | undefined {
  const pieces = text.split(',').map((p) => p.trim()).filter((p) => p.length > 0);
  return pieces.length > 0 ? pieces.map(Number) : undefined;
}

/** Whether a run kind is one of the experiments (its results are charted). */
export function isExperimentKind(kind: string): kind is ExperimentKind {
  return (EXPERIMENT_KINDS as readonly string[]).includes(kind);
}

/**
 * Experiment kinds that keep their trained sub-runs and so can resume after
 * an interruption; the others start again. Mirrors the job runner's list
 * (main/jobs), which the renderer does not import.
 */
export const RESUMABLE_EXPERIMENT_KINDS: readonly ExperimentKind[] = ['ablation', 'prior-study'];

/**
 * What an interrupted run offers: 'resume' for searches and the resumable
 * experiment kinds, 'start-again' for the other experiments, null for a run
 * that is not interrupted.
 */
export function interruptedAction(run: { kind: string; status: string })
  : 'resume' | 'start-again' | null {
  if (run.status !== 'interrupted') return null;
  if (!isExperimentKind(run.kind)) return 'resume';
  return RESUMABLE_EXPERIMENT_KINDS.includes(run.kind) ? 'resume' : 'start-again';
}

/**
 * Why the service refused to resume a run, in the page's words: what to do
 * instead rather than API names (the refusal of a kind that cannot resume
 * speaks of startExperiment and config.experiment).
 */
export function explainResumeRefusal(message: string, run: { kind: string; status: string })
  : string {
  if (/nothing to resume|start it again/i.test(message)) {
    const kind = isExperimentKind(run.kind) ? KIND_LABELS[run.kind].toLowerCase() : run.kind;
    return `this ${kind} run keeps nothing to continue from. Use "Start again" to run it anew ` +
      'with the same settings.';
  }
  if (/already being run/i.test(message)) return 'it is already running.';
  if (/only an? interrupted/i.test(message)) {
    return `it is ${run.status}, and only an interrupted run can be resumed.`;
  }
  return message;
}

/**
 * The experiment input stored in an experiment run's configuration
 * (`config.experiment`) as a form draft: only the keys its kind's schema
 * takes, nulls left out so their defaults apply.
 *
 * @returns null when the configuration holds no experiment of a known kind.
 */
export function storedExperimentDraft(config: unknown): ExperimentDraft | null {
  const stored = (config as { experiment?: unknown } | null)?.experiment;
  if (typeof stored !== 'object' || stored === null) return null;
  const kind = (stored as { kind?: unknown }).kind;
  if (typeof kind !== 'string' || !isExperimentKind(kind)) return null;

  const known = new Set(Object.keys(branchOf(kind).shape));
  const entries = Object.entries(stored).filter(([key, value]) =>
    known.has(key) && value !== null && value !== undefined);
  return { ...Object.fromEntries(entries), kind };
}

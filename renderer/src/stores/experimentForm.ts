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

/**
 * What the schema finds wrong with a draft, by field name ('experiment' for
 * problems of the whole). Empty when it would be accepted.
 */
export function experimentProblems(draft: ExperimentDraft): Record<string, string[]> {
  const parsed = experimentInputSchema.safeParse(experimentPayload(draft));
  if (parsed.success) return {};
  const byField: Record<string, string[]> = {};
  for (const issue of parsed.error.issues) {
    const field = issue.path.length > 0 ? String(issue.path[0]) : 'experiment';
    const where = issue.path.length > 1 ? `${issue.path.slice(1).join('.')}: ` : '';
    (byField[field] ??= []).push(where + issue.message);
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

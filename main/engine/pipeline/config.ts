import { z } from 'zod';

/**
 * The full configuration of a search run: everything needed to repeat it.
 * One schema serves the CLI, the registry (stored as JSON), the job runner and
 * the GUI's New search form, so a setting is validated the same way everywhere.
 * Unknown keys are refused (a misspelt setting must not silently fall back to
 * its default).
 */

const backendName = z.enum(['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu']);

const priorSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('random'), seed: z.number().int() }),
  z.strictObject({
    kind: z.literal('pool'),
    seed: z.number().int(),
    size: z.number().int().min(1).max(64),
  }),
  z.strictObject({ kind: z.literal('architecture'), text: z.string().min(1) }),
]);

export const searchConfigSchema = z.strictObject({
  preset: z.string().min(1),
  dataDir: z.string().optional(),
  classes: z.number().int().min(2).optional(),
  seed: z.number().int(),
  backend: backendName.optional(),
  forcedSampling: z.boolean(),
  shadowBatchNorm: z.boolean(),
  minExpansion: z.number().int().min(1).max(6),
  validationPerClass: z.number().int().min(1),
  supernet: z.strictObject({
    epochs: z.number().int().min(1),
    batchSize: z.number().int().min(1),
    microBatch: z.number().int().min(1).optional(),
    /** Threads sharing each step's passes (1: no replicas); same results for any count. */
    workers: z.number().int().min(1).max(16).optional(),
    trainSubset: z.number().int().min(1).optional(),
    lr: z.number().positive(),
    momentum: z.number().min(0).max(1),
    weightDecay: z.number().min(0),
    labelSmoothing: z.number().min(0).max(1),
  }),
  generator: z.strictObject({
    epochs: z.number().int().min(1),
    stepsPerEpoch: z.number().int().min(1),
    targetsPerStep: z.number().int().min(1),
    validationBatch: z.number().int().min(1),
    lr: z.number().positive(),
    lambda: z.number().nonnegative(),
    tau0: z.number().positive(),
    tauDecay: z.number().positive().max(1),
  }),
  constraint: z
    .object({ lowM: z.number().positive(), highM: z.number().positive() })
    .refine((c) => c.lowM < c.highM, 'constraint.lowM must be below constraint.highM')
    .optional(),
  prior: priorSchema,
  sweepBudgets: z.number().int().min(2).max(1000),
  recalibrationBatches: z.number().int().min(0),
});

export type SearchConfig = z.infer<typeof searchConfigSchema>;
export type PriorConfig = z.infer<typeof priorSchema>;

/**
 * Parses an untrusted configuration (CLI, IPC, JSON file) and returns it typed,
 * or throws one error listing every problem with its path and the fix.
 */
export function parseSearchConfig(input: unknown): SearchConfig {
  const parsed = searchConfigSchema.safeParse(input);
  if (parsed.success) return parsed.data;

  const problems = parsed.error.issues.map((issue) => {
    const where = issue.path.length ? issue.path.join('.') : 'config';
    return `  - ${where}: ${issue.message}`;
  });
  throw new Error(`invalid search configuration:\n${problems.join('\n')}`);
}

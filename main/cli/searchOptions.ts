import { readFileSync } from 'node:fs';

import { parseSearchConfig, type SearchConfig } from '../engine/pipeline/config.js';
import { defaultSearchConfig } from '../engine/pipeline/defaults.js';
import { UsageError, type OptionSpecs, type ParsedArgs } from './args.js';

/** Options that shape a search configuration (search and the stage commands). */
export const SEARCH_OPTIONS: OptionSpecs = {
  preset: { kind: 'string', help: 'search space: fmnist (default, CPU), cifar, imagenet' },
  config: { kind: 'string', help: 'JSON file of settings laid over the preset defaults' },
  data: { kind: 'string', help: 'dataset folder (MNIST-family IDX or CIFAR-10 binary)' },
  classes: { kind: 'number', help: 'output classes (default: the dataset\'s)' },
  seed: { kind: 'number', help: 'seed of everything random (default 1)' },
  backend: { kind: 'string', help: 'force tensorflow-gpu, tensorflow, wasm or cpu' },
  'forced-sampling': { kind: 'boolean', help: 'FS: skips only in the last sub-blocks (on)' },
  'shadow-bn': { kind: 'boolean', help: 'SBN: one BN per expansion rate (on)' },
  'min-expansion': { kind: 'number', help: 'sub-blocks always kept (default 2)' },
  'validation-per-class': { kind: 'number', help: 'held-out validation images per class' },
  'supernet-epochs': { kind: 'number', help: 'supernet training epochs' },
  'batch-size': { kind: 'number', help: 'supernet batch size' },
  'micro-batch': { kind: 'number', help: 'images per forward pass (memory cap)' },
  'train-subset': { kind: 'number', help: 'train the supernet on a balanced subset of N' },
  lr: { kind: 'number', help: 'supernet learning rate at step 0 (cosine)' },
  'generator-epochs': { kind: 'number', help: 'generator training epochs' },
  'generator-steps': { kind: 'number', help: 'generator steps per epoch' },
  lambda: { kind: 'number', help: 'weight of the cost penalty (relative to the interval)' },
  tau0: { kind: 'number', help: 'initial Gumbel temperature (5.0)' },
  'tau-decay': { kind: 'number', help: 'temperature factor per epoch (0.95)' },
  constraint: { kind: 'list', help: 'constraint interval LOW,HIGH in MFLOPs' },
  'sweep-budgets': { kind: 'number', help: 'budgets in the evaluation sweep (20)' },
  prior: { kind: 'string', help: 'random | pool | an architecture in text form' },
  'prior-seed': { kind: 'number', help: 'seed of the random prior or pool' },
};

type Options = ParsedArgs['options'];

function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new UsageError(`--config ${file}: cannot read the file; check the path`);
  }
  try {
    const value = JSON.parse(text) as unknown;
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new Error('the top level must be a JSON object');
    }
    return value as Record<string, unknown>;
  } catch (err) {
    throw new UsageError(`--config ${file} is not valid JSON: ${(err as Error).message}`);
  }
}

function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>) {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const current = out[key];
    // A prior of another kind replaces the old one whole: its fields differ.
    const bothObjects =
      key !== 'prior' &&
      value && typeof value === 'object' && !Array.isArray(value) &&
      current && typeof current === 'object' && !Array.isArray(current);
    out[key] = bothObjects
      ? deepMerge(current as Record<string, unknown>, value as Record<string, unknown>)
      : value;
  }
  return out;
}

/**
 * The configuration the command line asks for: preset defaults, then a
 * --config file, then the individual options, validated as a whole.
 *
 * @throws UsageError listing every invalid setting.
 */
export function searchConfigFromOptions(options: Options): SearchConfig {
  const presetName = (options.preset as string | undefined) ?? 'fmnist';
  let base: SearchConfig;
  try {
    base = defaultSearchConfig(presetName);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }

  let merged = base as unknown as Record<string, unknown>;
  if (typeof options.config === 'string') {
    merged = deepMerge(merged, readConfigFile(options.config));
  }
  merged = deepMerge(merged, overridesFrom(options));

  try {
    return parseSearchConfig(merged);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

function overridesFrom(o: Options): Record<string, unknown> {
  const pick = (name: string) => o[name];
  const defined = (entries: Record<string, unknown>) =>
    Object.fromEntries(Object.entries(entries).filter(([, v]) => v !== undefined));

  const over: Record<string, unknown> = defined({
    dataDir: pick('data'),
    classes: pick('classes'),
    seed: pick('seed'),
    backend: pick('backend'),
    forcedSampling: pick('forced-sampling'),
    shadowBatchNorm: pick('shadow-bn'),
    minExpansion: pick('min-expansion'),
    validationPerClass: pick('validation-per-class'),
    sweepBudgets: pick('sweep-budgets'),
  });

  const supernet = defined({
    epochs: pick('supernet-epochs'),
    batchSize: pick('batch-size'),
    microBatch: pick('micro-batch'),
    trainSubset: pick('train-subset'),
    lr: pick('lr'),
  });
  if (Object.keys(supernet).length) over.supernet = supernet;

  const generator = defined({
    epochs: pick('generator-epochs'),
    stepsPerEpoch: pick('generator-steps'),
    lambda: pick('lambda'),
    tau0: pick('tau0'),
    tauDecay: pick('tau-decay'),
  });
  if (Object.keys(generator).length) over.generator = generator;

  const constraint = pick('constraint') as number[] | undefined;
  if (constraint) {
    if (constraint.length !== 2) {
      throw new UsageError(`--constraint takes LOW,HIGH in MFLOPs, got ${constraint.join(',')}`);
    }
    over.constraint = { lowM: constraint[0], highM: constraint[1] };
  }

  const prior = priorFrom(o);
  if (prior) over.prior = prior;
  return over;
}

function priorFrom(o: Options): Record<string, unknown> | undefined {
  const kind = o.prior as string | undefined;
  const seed = (o['prior-seed'] as number | undefined) ?? 1;
  if (kind === undefined) {
    return o['prior-seed'] === undefined ? undefined : { kind: 'pool', seed, size: 8 };
  }
  if (kind === 'random') return { kind: 'random', seed };
  if (kind === 'pool') return { kind: 'pool', seed, size: 8 };
  return { kind: 'architecture', text: kind };
}

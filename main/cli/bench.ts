/**
 * `npm run bench`: how fast the engine runs on this machine's backend —
 * supernet training (fair sampling: five single-path passes per batch),
 * generation of 100 architectures in one forward pass, and the ops the
 * networks are made of. `--json` ends the output with one JSON line.
 */
import { performance } from 'node:perf_hooks';

import { initBackend, type BackendName } from '../engine/backend.js';
import { loadDataset } from '../engine/data/dataset.js';
import { subsetBalanced } from '../engine/data/split.js';
import { ArchitectureGenerator } from '../engine/nn/generator.js';
import { Supernet } from '../engine/nn/supernet.js';
import { benchOps } from '../engine/ops/bench.js';
import { generateArchitectures, sweepBudgets } from '../engine/pipeline/generate.js';
import { defaultSearchConfig } from '../engine/pipeline/defaults.js';
import { getPreset } from '../engine/space/presets.js';
import { randomPrior } from '../engine/space/priors.js';
import { trainSupernet } from '../engine/train/supernetTrainer.js';
import { parseArgs, UsageError } from './args.js';

interface BenchResult {
  name: string;
  value: number;
  unit: string;
  detail: string;
}

async function benchSupernetTraining(
  batchSize: number,
  steps: number,
  workers: number,
): Promise<BenchResult> {
  const config = defaultSearchConfig('fmnist');
  const preset = getPreset('fmnist');
  const data = loadDataset({});
  const train = subsetBalanced(data.train, batchSize * (steps + 1), 1);
  const supernet = new Supernet(preset, 10, {
    forcedSampling: true,
    minExpansion: 2,
    shadowBatchNorm: true,
    seed: 1,
  });

  // One warm-up step compiles the wasm kernels and fills the allocator.
  const run = async (count: number) => {
    const subset = subsetBalanced(train, batchSize * count, 2);
    const started = performance.now();
    await trainSupernet(supernet, subset, { ...config.supernet, epochs: 1, batchSize,
      microBatch: batchSize, seed: 1, workers });
    return (performance.now() - started) / 1000;
  };
  await run(1);
  const seconds = await run(steps);
  supernet.store.dispose();

  return {
    name: `supernet-train-step-${workers}-thread${workers > 1 ? 's' : ''}`,
    value: (batchSize * steps) / seconds,
    unit: 'img/s',
    detail: `fmnist preset, batch ${batchSize}, ${steps} steps of 5 fair-sampling passes ` +
      `(forward, backward, SGD update), ${(seconds / steps).toFixed(2)} s per step ` +
      '(thread start-up included)',
  };
}

async function benchGeneration(budgets: number): Promise<BenchResult> {
  const preset = getPreset('fmnist');
  const options = { forcedSampling: true, minExpansion: 2 };
  const generator = new ArchitectureGenerator(preset.layers.length, 1, options);
  const prior = randomPrior(preset, options, 1);
  const list = sweepBudgets(preset.constraint, budgets);

  await generateArchitectures(generator, preset, options, list.slice(0, 2), prior);
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const { forwardMs } = await generateArchitectures(generator, preset, options, list, prior);
    times.push(forwardMs);
  }
  generator.dispose();

  return {
    name: 'generate-100-budgets',
    value: Math.min(...times),
    unit: 'ms',
    detail: `${budgets} budgets in one generator forward pass (best of 5), decoding excluded`,
  };
}

async function main(argv: string[]): Promise<number> {
  const { options } = parseArgs(argv, {
    json: { kind: 'boolean', help: 'end with one JSON line' },
    backend: { kind: 'string', help: 'force a backend' },
    'batch-size': { kind: 'number', help: 'supernet batch (64, the fmnist default)' },
    steps: { kind: 'number', help: 'timed supernet steps (8)' },
    ops: { kind: 'boolean', help: 'also time each op (on)' },
  });
  const backend = await initBackend(options.backend as BackendName | undefined);
  const skipped = backend.tried.length ? ` (${backend.tried.join('; ')})` : '';
  console.log(`backend ${backend.name}${skipped}`);

  const results: BenchResult[] = [];
  const show = (r: BenchResult) => {
    results.push(r);
    const value = r.value.toFixed(2).padStart(10);
    console.log(`${r.name.padEnd(24)} ${value} ${r.unit.padEnd(6)} ${r.detail}`);
  };
  const batch = (options['batch-size'] as number) ?? 64;
  const steps = (options.steps as number) ?? 8;
  for (const workers of [1, 2]) show(await benchSupernetTraining(batch, steps, workers));
  show(await benchGeneration(100));

  if (options.ops !== false) {
    for (const row of benchOps({ reps: 3 })) {
      show({ name: row.op, value: row.medianMs, unit: 'ms', detail: `input ${row.inputShape}` });
    }
  }

  if (options.json) console.log(JSON.stringify({ backend: backend.name, results }));
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (err) => {
    console.error(err instanceof UsageError ? err.message : err);
    process.exitCode = err instanceof UsageError ? 2 : 1;
  },
);

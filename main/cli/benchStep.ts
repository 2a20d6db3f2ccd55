/**
 * One bench step of our engine in a process of its own, so that its peak
 * memory is its own (main/cli/bench.ts runs one of these per step):
 *
 *   node --import tsx main/cli/benchStep.ts STEP [--steps N] [--warmup N] [--workers N]
 *
 * Prints the step's figures as one JSON line.
 */
import { initBackend, type BackendName } from '../engine/backend.js';
import { runOurStep } from '../engine/bench/steps.js';
import { parseArgs, UsageError } from './args.js';

async function main(argv: string[]): Promise<number> {
  const { options, positional } = parseArgs(argv, {
    steps: { kind: 'number', help: 'timed steps (8)' },
    warmup: { kind: 'number', help: 'untimed steps first (2)' },
    workers: { kind: 'number', help: 'supernet training threads (the search default)' },
    backend: { kind: 'string', help: 'force a backend' },
  });
  if (positional.length !== 1) throw new UsageError('usage: benchStep STEP [options]');

  const backend = await initBackend(options.backend as BackendName | undefined);
  const result = await runOurStep(positional[0], {
    steps: (options.steps as number | undefined) ?? 8,
    warmup: (options.warmup as number | undefined) ?? 2,
    workers: options.workers as number | undefined,
  });
  console.log(JSON.stringify({ ...result, backend: backend.name }));
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (err) => {
    console.error(err instanceof UsageError ? err.message : err);
    process.exitCode = err instanceof UsageError ? 2 : 1;
  },
);

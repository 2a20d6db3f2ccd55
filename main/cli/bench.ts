/**
 * `npm run bench`: our engine against the same networks in PyTorch, on this
 * machine, in one run. Each step runs in a fresh process on each side (ours:
 * main/cli/benchStep.ts; PyTorch: resources/bench/torch_steps.py under
 * Debian's python3-torch), so each peak memory figure is that step's alone.
 * Then the generator's one-forward generation of 100 architectures, and,
 * with --ops, the engine's ops one by one. `--json` ends the output with one
 * JSON line.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { initBackend, type BackendName } from '../engine/backend.js';
import type { BenchStepName, StepResult } from '../engine/bench/steps.js';
import { ArchitectureGenerator } from '../engine/nn/generator.js';
import { benchOps } from '../engine/ops/bench.js';
import { generateArchitectures, sweepBudgets } from '../engine/pipeline/generate.js';
import { getPreset } from '../engine/space/presets.js';
import { randomPrior } from '../engine/space/priors.js';
import { formatOptions, parseArgs, UsageError, type OptionSpecs } from './args.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const TORCH_SCRIPT = path.join(ROOT, 'resources/bench/torch_steps.py');
const OUR_STEP = path.join(ROOT, 'main/cli/benchStep.ts');

/** One line of the comparison: a step, and how many threads each side may use. */
interface Comparison {
  name: string;
  step: BenchStepName;
  /** null: each side's default (ours: the search's workers; PyTorch: its own). */
  threads: number | null;
}

const COMPARISONS: Comparison[] = [
  { name: 'supernet-fmnist', step: 'supernet-fmnist', threads: null },
  { name: 'supernet-fmnist-1-thread', step: 'supernet-fmnist', threads: 1 },
  { name: 'supernet-cifar3', step: 'supernet-cifar3', threads: null },
  { name: 'generator-fmnist', step: 'generator-fmnist', threads: null },
  { name: 'score-fmnist', step: 'score-fmnist', threads: null },
];

interface Side {
  imgPerSec: number;
  secondsPerStep: number;
  threads: number;
  peakRssMB: number;
  params: number;
}

interface ComparisonRow {
  name: string;
  oursImgPerSec: number;
  torchImgPerSec: number | null;
  /** ours / torch in images per second: above 1 means we are faster. */
  ratio: number | null;
  oursThreads: number;
  torchThreads: number | null;
  oursPeakRssMB: number;
  torchPeakRssMB: number | null;
  /** ours / torch peak memory. */
  memoryRatio: number | null;
}

/** The last line of a child's output, parsed; the child's stderr on failure. */
function runJson(command: string, args: string[]): Record<string, unknown> {
  const child = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
  const lines = (child.stdout ?? '').trim().split('\n');
  if (child.status !== 0 || !lines.at(-1)?.startsWith('{')) {
    throw new Error(`${path.basename(args[args.length > 2 ? 2 : 0])} failed (exit ` +
      `${child.status}): ${(child.stderr ?? '').trim().split('\n').slice(-5).join(' | ')}`);
  }
  return JSON.parse(lines.at(-1) as string) as Record<string, unknown>;
}

/**
 * A Python that imports torch: SGNAS_PYTHON when set (only that one), else
 * Debian's, else the first on PATH.
 */
function findTorchPython(): { python: string; version: string } | null {
  const chosen = process.env.SGNAS_PYTHON;
  const candidates = chosen ? [chosen] : ['/usr/bin/python3', 'python3'];
  for (const python of candidates) {
    try {
      const version = execFileSync(python, ['-c', 'import torch; print(torch.__version__)'],
        { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
      return { python, version };
    } catch {
      // Not this one: no such interpreter, or no torch in it.
    }
  }
  return null;
}

function ours(c: Comparison, steps: number, warmup: number, backend?: string): Side {
  const args = ['--import', 'tsx', OUR_STEP, c.step, '--steps', String(steps),
    '--warmup', String(warmup)];
  if (c.threads !== null) args.push('--workers', String(c.threads));
  if (backend) args.push('--backend', backend);
  return runJson(process.execPath, args) as unknown as StepResult;
}

function torch(python: string, c: Comparison, steps: number, warmup: number): Side {
  const args = [TORCH_SCRIPT, c.step, '--steps', String(steps), '--warmup', String(warmup)];
  if (c.threads !== null) args.push('--threads', String(c.threads));
  return runJson(python, args) as unknown as Side;
}

async function benchGeneration(budgets: number): Promise<number> {
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
  return Math.min(...times);
}

/** The fastest of several runs of one side, with the largest peak memory among them. */
function best(sides: Side[]): Side {
  const fastest = sides.reduce((x, y) => (y.imgPerSec > x.imgPerSec ? y : x));
  return { ...fastest, peakRssMB: Math.max(...sides.map((s) => s.peakRssMB)) };
}

const fmt = (v: number | null, digits = 1) => (v === null ? '-' : v.toFixed(digits));

const OPTIONS = {
  json: { kind: 'boolean', help: 'end with one JSON line' },
  backend: { kind: 'string', help: 'force our backend (tensorflow-gpu, tensorflow, wasm, cpu)' },
  steps: { kind: 'number', help: 'timed steps per comparison (6)' },
  warmup: { kind: 'number', help: 'untimed steps first (2)' },
  rounds: { kind: 'number', help: 'runs of each side, alternating; the fastest counts (2)' },
  only: { kind: 'string', help: `comparisons to run, comma-separated (all): ` +
    COMPARISONS.map((c) => c.name).join(', ') },
  ops: { kind: 'boolean', help: 'also time each op of the engine' },
  help: { kind: 'boolean', help: 'show this help' },
} satisfies OptionSpecs;

/** The comparisons --only names; every name must be known. */
function chosenComparisons(only: string | undefined): Comparison[] {
  if (only === undefined) return COMPARISONS;
  const names = only.split(',').map((n) => n.trim()).filter((n) => n !== '');
  const unknown = names.filter((n) => !COMPARISONS.some((c) => c.name === n));
  if (unknown.length > 0 || names.length === 0) {
    throw new UsageError(`--only: unknown comparison '${unknown.join(', ') || only}'; ` +
      `choose from ${COMPARISONS.map((c) => c.name).join(', ')}`);
  }
  return COMPARISONS.filter((c) => names.includes(c.name));
}

async function main(argv: string[]): Promise<number> {
  const { options } = parseArgs(argv, OPTIONS);
  if (options.help) {
    console.log('usage: npm run bench -- [options]\n\nOur engine against the same networks ' +
      'in PyTorch, step by step, in images per second.\n\n' + formatOptions(OPTIONS));
    return 0;
  }
  const comparisons = chosenComparisons(options.only as string | undefined);
  const steps = (options.steps as number | undefined) ?? 6;
  const warmup = (options.warmup as number | undefined) ?? 2;
  const rounds = (options.rounds as number | undefined) ?? 2;
  for (const [name, value, least] of [['steps', steps, 1], ['warmup', warmup, 0],
    ['rounds', rounds, 1]] as const) {
    if (!Number.isInteger(value) || value < least) {
      throw new UsageError(`--${name} must be a whole number of at least ${least}, got ${value}`);
    }
  }

  const backend = await initBackend(options.backend as BackendName | undefined);
  const skipped = backend.tried.length ? ` (${backend.tried.join('; ')})` : '';
  console.log(`our backend: ${backend.name}${skipped}`);
  const torchPython = findTorchPython();
  console.log(torchPython
    ? `PyTorch ${torchPython.version} (${torchPython.python})`
    : 'PyTorch: not found, so only our side is measured; on Debian install it with ' +
      '`apt-get install python3-torch` (or point SGNAS_PYTHON at a python with torch)');

  const rows: ComparisonRow[] = [];
  console.log(`${'step'.padEnd(26)} ${'ours img/s'.padStart(10)} ${'torch img/s'.padStart(11)} ` +
    `${'ratio'.padStart(6)}  threads  ${'peak MB ours/torch'.padStart(18)}`);

  for (const c of comparisons) {
    // Alternating the sides and keeping each one's fastest run evens out
    // whatever else the machine is doing; memory is the largest peak seen.
    const runs: { a: Side; b: Side | null }[] = [];
    for (let r = 0; r < rounds; r++) {
      runs.push({
        a: ours(c, steps, warmup, options.backend as string | undefined),
        b: torchPython ? torch(torchPython.python, c, steps, warmup) : null,
      });
    }
    const a = best(runs.map((x) => x.a));
    const b = torchPython ? best(runs.map((x) => x.b as Side)) : null;
    const row: ComparisonRow = {
      name: c.name,
      oursImgPerSec: a.imgPerSec,
      torchImgPerSec: b?.imgPerSec ?? null,
      ratio: b ? a.imgPerSec / b.imgPerSec : null,
      oursThreads: a.threads,
      torchThreads: b?.threads ?? null,
      oursPeakRssMB: a.peakRssMB,
      torchPeakRssMB: b?.peakRssMB ?? null,
      memoryRatio: b ? a.peakRssMB / b.peakRssMB : null,
    };
    rows.push(row);
    console.log(`${c.name.padEnd(26)} ${fmt(row.oursImgPerSec).padStart(10)} ` +
      `${fmt(row.torchImgPerSec).padStart(11)} ${fmt(row.ratio, 2).padStart(6)}  ` +
      `${`${row.oursThreads}/${row.torchThreads ?? '-'}`.padStart(7)}  ` +
      `${`${fmt(row.oursPeakRssMB, 0)}/${fmt(row.torchPeakRssMB, 0)}`.padStart(18)}`);
  }

  const generateMs = await benchGeneration(100);
  console.log(`generate-100-budgets: ${generateMs.toFixed(1)} ms for 100 architectures in one ` +
    'generator forward pass (best of 5, decoding excluded)');

  if (options.ops) {
    for (const row of benchOps({ reps: 3 })) {
      console.log(`${row.op.padEnd(40)} ${row.medianMs.toFixed(2).padStart(9)} ms  ` +
        `input ${row.inputShape}`);
    }
  }

  if (options.json) {
    console.log(JSON.stringify({ backend: backend.name, torch: torchPython?.version ?? null,
      steps: rows, generate100BudgetsMs: generateMs }));
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (err) => {
    console.error(err instanceof UsageError ? err.message : err);
    process.exitCode = err instanceof UsageError ? 2 : 1;
  },
);

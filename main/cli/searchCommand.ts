import { existsSync } from 'node:fs';

import type { SearchConfig } from '../engine/pipeline/config.js';
import { checkBudgets, sweepBudgets } from '../engine/pipeline/generate.js';
import type { SearchSummary } from '../engine/pipeline/results.js';
import { readRunConfig, runPaths, writeRunConfig } from '../engine/pipeline/runFolder.js';
import {
  buildPrior,
  checkSearchConfig,
  closeSearch,
  loadTrainedNetworks,
  openSearch,
  runGeneratorStage,
  runSearch,
  runSupernetStage,
  runSweepStage,
  spaceOptionsOf,
  type SearchContext,
  type SearchHooks,
  writeSweepResults,
} from '../engine/pipeline/search.js';
import { getPreset } from '../engine/space/presets.js';
import { latestCheckpoint, loadCheckpoint } from '../engine/train/checkpoint.js';
import { createSearchRun, executeSearchRun } from '../jobs/searchJob.js';
import { RunRegistry, resolveDbPath } from '../registry/index.js';
import {
  formatOptions,
  parseArgs,
  UsageError,
  type OptionSpecs,
  type ParsedArgs,
} from './args.js';
import { throttleProgress } from './progress.js';
import { formatSummary } from './report.js';
import { SEARCH_OPTIONS, searchConfigFromOptions } from './searchOptions.js';

const OUTPUT_OPTIONS: OptionSpecs = {
  json: { kind: 'boolean', help: 'end the output with one JSON summary line' },
  out: { kind: 'string', help: 'write a run folder here instead of registering the run' },
  db: { kind: 'string', help: 'run registry database (default: SGNAS_DB or the user folder)' },
  quiet: { kind: 'boolean', help: 'no progress lines' },
  help: { kind: 'boolean', help: 'show this help' },
};

const STAGE_OPTIONS: OptionSpecs = {
  ...SEARCH_OPTIONS,
  ...OUTPUT_OPTIONS,
  run: { kind: 'string', help: 'the run folder to work on (holds config.json)' },
  budgets: { kind: 'list', help: 'FLOPs budgets in MFLOPs, comma-separated (generate)' },
  score: { kind: 'boolean', help: 'estimate accuracy on the supernet (on)' },
};

/**
 * Ctrl-C stops the work after the current step and leaves the run
 * interrupted, so `runs resume` continues it; checkpoints already written
 * stay. A second Ctrl-C kills at once. tsx relays the terminal's SIGINT to
 * this process as well, so a second signal within a second is the same one.
 */
function interruptSignal(): { signal: AbortSignal; interrupted: () => boolean } {
  const controller = new AbortController();
  let firstAt = 0;
  const onSigint = () => {
    if (firstAt === 0) {
      firstAt = Date.now();
      console.error('interrupted: stopping after the current step (Ctrl-C again to kill)');
      controller.abort(new Error('interrupted by the user'));
      return;
    }
    if (Date.now() - firstAt > 1000) process.exit(130);
  };
  process.on('SIGINT', onSigint);
  return { signal: controller.signal, interrupted: () => firstAt > 0 };
}

function cliHooks(options: Record<string, unknown>): SearchHooks & { interrupted: () => boolean } {
  const print = (line: string) => console.log(line);
  const { signal, interrupted } = interruptSignal();
  return {
    log: print,
    onProgress: options.quiet ? undefined : throttleProgress(print),
    signal,
    interrupted,
  };
}

function checked(config: SearchConfig): SearchConfig {
  try {
    checkSearchConfig(config);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  return config;
}

function report(summary: SearchSummary, json: boolean): void {
  console.log(formatSummary(summary));
  if (json) console.log(JSON.stringify(summary));
}

/** `sgnas search`: the whole pipeline, registered in the run registry (or in --out). */
export async function searchCommand(argv: string[]): Promise<number> {
  const specs = { ...SEARCH_OPTIONS, ...OUTPUT_OPTIONS };
  const { options, positional } = parseArgs(argv, specs);
  if (options.help) {
    console.log(`usage: sgnas search [options]\n\n${formatOptions(specs)}`);
    return 0;
  }
  if (positional.length) throw new UsageError(`unexpected argument '${positional[0]}'`);
  const config = checked(searchConfigFromOptions(options));
  const hooks = cliHooks(options);

  if (typeof options.out === 'string') {
    const summary = await runSearch(config, options.out, hooks);
    report(summary, Boolean(options.json));
    return 0;
  }

  const registry = await RunRegistry.open(resolveDbPath(options.db as string | undefined));
  try {
    await registry.markDeadRunsInterrupted();
    const run = await createSearchRun(registry, config);
    console.log(`run ${run.id} registered in ${registry.dbPath}`);
    console.log(`run folder ${registry.runFolder(run.id)}`);

    const summary = await executeSearchRun(registry, run.id, {
      log: hooks.log,
      onProgress: hooks.onProgress,
      signal: hooks.signal,
      interruptedOnAbort: hooks.interrupted,
    });
    if (!summary) {
      const { status } = await registry.getRun(run.id);
      const next = status === 'interrupted'
        ? `resume it with: npm run sgnas -- runs resume ${run.id}`
        : 'its checkpoints are kept';
      console.log(`run ${run.id} ${status}; ${next}`);
      return 130;
    }
    report(summary, Boolean(options.json));
    return 0;
  } finally {
    await registry.close();
  }
}

/** The run folder a stage command works on, created from options for a new one. */
function stageFolder(options: ParsedArgs['options']): { dir: string; config: SearchConfig } {
  if (typeof options.run === 'string') {
    return { dir: options.run, config: readRunConfig(options.run) };
  }
  if (typeof options.out === 'string') {
    const config = checked(searchConfigFromOptions(options));
    if (!existsSync(runPaths(options.out).config)) writeRunConfig(options.out, config);
    return { dir: options.out, config };
  }
  throw new UsageError('name the run folder with --run DIR (or --out DIR for a new one)');
}

async function loadTrainedSupernet(ctx: SearchContext): Promise<void> {
  const dir = await latestCheckpoint(runPaths(ctx.runDir).checkpoints, 'supernet');
  if (!dir) {
    throw new UsageError(
      `${ctx.runDir} has no supernet checkpoint: run \`sgnas train-supernet --run ` +
        `${ctx.runDir}\` first`,
    );
  }
  await loadCheckpoint(dir, { store: ctx.supernet.store });
}

/** The stage commands: train-supernet, train-generator, generate, evaluate. */
export async function stageCommand(command: string, argv: string[]): Promise<number> {
  const { options } = parseArgs(argv, STAGE_OPTIONS);
  if (options.help) {
    console.log(`usage: sgnas ${command} --run DIR [options]\n\n${formatOptions(STAGE_OPTIONS)}`);
    return 0;
  }
  const { dir, config } = stageFolder(options);
  const budgets = options.budgets as number[] | undefined;
  if (command === 'generate') {
    if (!budgets?.length) throw new UsageError('generate needs --budgets a,b,c in MFLOPs');
    try {
      checkBudgets(budgets, getPreset(config.preset), spaceOptionsOf(config));
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  }

  const ctx = await openSearch(config, dir, cliHooks(options));
  try {
    await runStage(command, ctx, options, budgets);
  } finally {
    closeSearch(ctx);
  }
  return 0;
}

async function runStage(
  command: string,
  ctx: SearchContext,
  options: Record<string, unknown>,
  budgets: number[] | undefined,
): Promise<void> {
  if (command === 'train-supernet') {
    await runSupernetStage(ctx);
    return;
  }
  if (command === 'train-generator') {
    await loadTrainedSupernet(ctx);
    await runGeneratorStage(ctx, buildPrior(ctx));
    return;
  }

  await loadTrainedNetworks(ctx, options.score !== false);
  const started = performance.now();
  const list =
    command === 'generate' ? budgets : sweepBudgets(ctx.constraint, ctx.config.sweepBudgets);
  const sweep = await runSweepStage(ctx, buildPrior(ctx), list, options.score !== false);
  report(writeSweepResults(ctx, sweep, started), Boolean(options.json));
}

/**
 * Bad experiment input is refused before anything is registered: from the
 * CLI as a usage error (exit 2) naming the value, what is allowed and the
 * fix; from the job runner as an input or setup error. None of these tests
 * trains anything: a run folder with only its config.json is enough to plan.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import { UsageError } from '../main/cli/args.js';
import { ablationCommand, baselineCommand, compareCommand, comparisonHeading,
  trainScratchCommand } from '../main/cli/experimentCommands.js';
import { beatsShare, meanBeatsShare } from '../main/engine/experiments/randomSubnets.js';
import { parseSearchConfig, type SearchConfig } from '../main/engine/pipeline/config.js';
import { defaultSearchConfig } from '../main/engine/pipeline/defaults.js';
import { writeRunConfig } from '../main/engine/pipeline/runFolder.js';
import { spaceOptionsOf } from '../main/engine/pipeline/search.js';
import { flopsRangeM } from '../main/engine/space/costModel.js';
import { getPreset } from '../main/engine/space/presets.js';
import { ExperimentInputError, JobRunner } from '../main/jobs/jobRunner.js';
import { ExperimentSetupError } from '../main/jobs/experimentKinds.js';
import { createSearchRun } from '../main/jobs/searchJob.js';
import { RunRegistry } from '../main/registry/index.js';
import { runCli, TINY_SEARCH, tinyHome } from './helpers/tinySearch.js';

const env = tinyHome('sgnas-exp-input-');
const runDir = path.join(env.home, 'source-run');
/** A database the refused commands must never create. */
const db = path.join(env.home, 'never.db');
let config: SearchConfig;
let range: { minM: number; maxM: number };

const round4 = (v: number) => Math.round(v * 1e4) / 1e4;

/** An architecture of the fmnist space with every layer `33----` except the first. */
function archWithFirst(first: string): string {
  const layers = getPreset('fmnist').layers.length;
  return [first, ...Array.from({ length: layers - 1 }, () => '33----')].join(' ');
}

/** Runs a CLI command in this process: the UsageError it throws (main maps it to exit 2). */
async function refusal(run: () => Promise<number>): Promise<string> {
  const error = await run().then(() => null, (err: unknown) => err);
  expect(error).toBeInstanceOf(UsageError);
  return (error as Error).message;
}

beforeAll(() => {
  const base = defaultSearchConfig('fmnist');
  config = parseSearchConfig({ ...base, ...TINY_SEARCH,
    supernet: { ...base.supernet, ...TINY_SEARCH.supernet },
    generator: { ...base.generator, ...TINY_SEARCH.generator } });
  mkdirSync(runDir, { recursive: true });
  writeRunConfig(runDir, config);
  range = flopsRangeM(getPreset('fmnist'), spaceOptionsOf(config));
  vi.spyOn(console, 'log').mockImplementation(() => undefined);
});

afterAll(() => {
  vi.restoreAllMocks();
  rmSync(env.home, { recursive: true, force: true });
});

describe('baseline commands refuse bad numbers before registering a run', () => {
  it('refuses targets outside the run preset FLOPs range, naming the value and the range',
    async () => {
      // The fixture's range brackets neither value: 0.3 is too cheap, 5 too costly.
      expect(0.3).toBeLessThan(range.minM);
      expect(5).toBeGreaterThan(range.maxM);
      const shownRange = `FLOPs range ${round4(range.minM)}..${round4(range.maxM)} MFLOPs`;

      for (const target of ['0.3', '5']) {
        const message = await refusal(() => baselineCommand('baseline-evolution',
          ['--run', runDir, '--targets', target, '--db', db]));
        expect(message).toContain(`budget ${target} MFLOPs`);
        expect(message).toContain(shownRange);
        expect(message).toContain('choose budgets inside that range');
      }
      const negative = await refusal(() => baselineCommand('baseline-evolution',
        ['--run', runDir, '--targets', '-1', '--db', db]));
      expect(negative).toMatch(/--targets must be positive budgets in MFLOPs, got -1/);
      expect(existsSync(db)).toBe(false);
    });

  it('refuses counts out of range, and says a fraction must be a whole number', async () => {
    const budgets = await refusal(() => baselineCommand('baseline-random',
      ['--run', runDir, '--budgets', '0', '--db', db]));
    expect(budgets).toBe('--budgets must be from 1 to 200, got 0: pass a value in that ' +
      'range, e.g. --budgets 10');

    const negative = await refusal(() => baselineCommand('baseline-random',
      ['--run', runDir, '--samples', '-3', '--db', db]));
    expect(negative).toMatch(/^--samples must be from 1 to 100000, got -3/);

    const fraction = await refusal(() => baselineCommand('baseline-random',
      ['--run', runDir, '--samples', '2.5', '--db', db]));
    expect(fraction).toMatch(/^--samples must be a whole number from 1 to 100000, got 2.5/);
    expect(fraction).not.toMatch(/>= 1/);
    expect(existsSync(db)).toBe(false);
  });

  it('refuses an ablation of one architecture (the API needs two as well)', async () => {
    expect(await refusal(() => ablationCommand(['--samples', '1', '--db', db])))
      .toMatch(/^--samples must be from 2 to 100000 for the ablation .*got 1/);
    expect(existsSync(db)).toBe(false);
  });

  it('refuses more evolution parents than its population', async () => {
    const message = await refusal(() => baselineCommand('baseline-evolution',
      ['--run', runDir, '--population', '4', '--parents', '6', '--db', db]));
    expect(message).toMatch(/--parents 6 exceeds --population 4/);
    expect(message).toMatch(/pass --parents 4 or less/);
  });

  it('gives each baseline only its own options, in its help and on its command line',
    async () => {
      const printed = vi.mocked(console.log);
      printed.mockClear();
      await baselineCommand('baseline-random', ['--help']);
      const randomHelp = printed.mock.calls.flat().join('\n');
      await baselineCommand('baseline-evolution', ['--help']);
      const evolutionHelp = printed.mock.calls.flat().join('\n').slice(randomHelp.length);

      expect(randomHelp).toContain('--samples');
      expect(randomHelp).not.toMatch(/--population|--parents|--generations|--mutation-rate/);
      expect(evolutionHelp).toMatch(/--population[\s\S]*--parents[\s\S]*--generations/);
      expect(evolutionHelp).not.toContain('--samples');

      expect(await refusal(() => baselineCommand('baseline-random',
        ['--run', runDir, '--population', '5']))).toMatch(/unknown option --population/);
      expect(await refusal(() => baselineCommand('baseline-evolution',
        ['--run', runDir, '--samples', '5']))).toMatch(/unknown option --samples/);
    });

  it('exits 2 from the CLI with the message, and registers nothing', async () => {
    const { code, out } = await runCli(['baseline-evolution', '--run', runDir, '--targets', '5',
      '--db', db], env.home);

    expect(code).toBe(2);
    expect(out).toMatch(/sgnas baseline-evolution: targets: budget 5 MFLOPs .* is outside/);
    expect(existsSync(db)).toBe(false);
  }, 60_000);
});

describe('compare-search --run', () => {
  it('refuses the options of a search it would not train, naming them', async () => {
    const message = await refusal(() => compareCommand(['--run', runDir, '--budgets', '2',
      '--supernet-epochs', '3', '--generator-steps', '2', '--preset', 'fmnist', '--db', db]));

    for (const name of ['--preset', '--supernet-epochs', '--generator-steps']) {
      expect(message).toContain(name);
    }
    expect(message).toMatch(/would be ignored: drop them, or drop --run/);
    expect(existsSync(db)).toBe(false);
  });
});

describe('compare-search text report', () => {
  it('says the supernet training time is unknown instead of printing a placeholder', () => {
    const unknown = comparisonHeading({ budgetsM: [1, 1.5], supernetTrainSeconds: null });
    expect(unknown).toBe('search cost for 2 budgets (supernet shared; its training time was ' +
      'not recorded in the run folder and is not counted):');
    expect(unknown).not.toContain('?');

    expect(comparisonHeading({ budgetsM: [1], supernetTrainSeconds: 42.26 }))
      .toContain('its training 42.3 s is not counted');
  });
});

describe('train-scratch refuses bad input before registering a run', () => {
  const valid = archWithFirst('33----');

  it('refuses a data folder that does not exist or holds no dataset', async () => {
    const missing = path.join(env.home, 'no-such-data');
    const absent = await refusal(() => trainScratchCommand(['--arch', valid, '--data', missing,
      '--db', db]));
    expect(absent).toContain(`data folder ${missing} does not exist`);

    const empty = mkdtempSync(path.join(os.tmpdir(), 'sgnas-empty-data-'));
    writeFileSync(path.join(empty, 'notes.txt'), 'not a dataset');
    try {
      const message = await refusal(() => trainScratchCommand(['--arch', valid, '--data', empty,
        '--db', db]));
      expect(message).toMatch(/cannot tell the dataset format .* holds notes\.txt/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
    expect(existsSync(db)).toBe(false);
  });

  it('refuses zero epochs and an --arch file that does not exist', async () => {
    expect(await refusal(() => trainScratchCommand(['--arch', valid, '--epochs', '0',
      '--db', db]))).toMatch(/^--epochs must be from 1 to 1000, got 0/);

    const file = path.join(env.home, 'missing-arch.json');
    expect(await refusal(() => trainScratchCommand(['--arch', file, '--db', db])))
      .toContain(`--arch ${file}: file not found`);
    expect(existsSync(db)).toBe(false);
  });

  it('refuses an architecture forced sampling forbids instead of reordering its skips',
    async () => {
      // fmnist keeps sub-blocks 0 and 1 (minExpansion 2) and, with forced
      // sampling, its skips fill the highest sub-blocks only.
      const skipThenKernel = await refusal(() => trainScratchCommand(
        ['--arch', archWithFirst('33-3--'), '--run', runDir, '--db', db]));
      expect(skipThenKernel).toMatch(/layer 1 of .*forcedSampling, skips must fill the highest/);

      const early = await refusal(() => trainScratchCommand(
        ['--arch', archWithFirst('3-3---'), '--run', runDir, '--db', db]));
      expect(early).toMatch(/layer 1 of .*sub-block 1 .* is 'skip'/);
      expect(existsSync(db)).toBe(false);
    });
});

describe('the job runner refuses bad experiments before registering a run', () => {
  it('refuses targets outside the space, too many parents and a missing data folder',
    async () => {
      const registry = await RunRegistry.open(env.db);
      const jobs = new JobRunner({ registry });
      try {
        // A completed search run whose folder holds the fixture's config.json.
        const source = await createSearchRun(registry, config);
        await registry.markRunning(source.id);
        await registry.finish(source.id, 'completed');
        writeRunConfig(registry.runFolder(source.id), config);
        const before = (await registry.listRuns()).length;

        await expect(jobs.startExperiment({ kind: 'baseline-evolution',
          sourceRunId: source.id, targetsM: [5] })).rejects.toThrow(ExperimentSetupError);
        await expect(jobs.startExperiment({ kind: 'baseline-evolution',
          sourceRunId: source.id, population: 4, parents: 6 }))
          .rejects.toThrow(/parents 6 exceeds population 4/);
        await expect(jobs.startExperiment({ kind: 'baseline-random', sourceRunId: source.id,
          samples: 2.5 })).rejects.toThrow(ExperimentInputError);
        await expect(jobs.startExperiment({ kind: 'train-scratch', architecture: archWithFirst(
          '33----'), dataDir: path.join(env.home, 'no-such-data') }))
          .rejects.toThrow(/does not exist/);
        await expect(jobs.startExperiment({ kind: 'train-scratch',
          architecture: archWithFirst('33-3--'), sourceRunId: source.id }))
          .rejects.toThrow(/forcedSampling/);

        expect(await registry.listRuns()).toHaveLength(before);
        expect(jobs.activeRuns()).toEqual([]);
      } finally {
        registry.close();
      }
    });
});

describe('random-subnet beatsShare', () => {
  const random = [
    { flopsM: 1, accuracy: 0.5, architecture: 'r1' },
    { flopsM: 2, accuracy: 0.7, architecture: 'r2' },
  ];

  it('has no share when no random architecture is as cheap, and the mean skips it', () => {
    // 0.5 MFLOPs: nothing to compare with. 1.5: beats r1 (1 of 1). 2.5: beats r1 only (1 of 2).
    const generated = [
      { flopsM: 0.5, accuracy: 0.9, architecture: 'g1', beatsShare: beatsShare(random, 0.5, 0.9) },
      { flopsM: 1.5, accuracy: 0.6, architecture: 'g2', beatsShare: beatsShare(random, 1.5, 0.6) },
      { flopsM: 2.5, accuracy: 0.6, architecture: 'g3', beatsShare: beatsShare(random, 2.5, 0.6) },
    ];

    expect(generated.map((g) => g.beatsShare)).toEqual([undefined, 1, 0.5]);
    // Counting g1 as a full win would give 2.5 / 3 = 0.833.
    expect(meanBeatsShare(generated)).toBe(0.75);
  });

  it('has no mean when no generated architecture has a share (null in the JSON report)', () => {
    const generated = [{ flopsM: 0.5, accuracy: 0.9, architecture: 'g1' }];

    expect(meanBeatsShare(generated)).toBeNaN();
    expect(JSON.parse(JSON.stringify({ mean: meanBeatsShare(generated) })).mean).toBeNull();
  });
});

import { readFileSync } from 'node:fs';

import { parseArchitectureJson } from '../engine/space/architecture.js';
import { flopsM, paramCount } from '../engine/space/costModel.js';
import { getPreset } from '../engine/space/presets.js';
import { parseArgs, UsageError, type OptionSpecs } from './args.js';

const COST_OPTIONS: OptionSpecs = {
  preset: { kind: 'string', help: 'search space: fmnist, cifar, imagenet' },
  classes: { kind: 'number', help: 'classifier outputs, for the parameter count (default 10)' },
  arch: { kind: 'string', help: 'architecture JSON file {"layers": [[op x6], ...]}' },
  'forced-sampling': { kind: 'boolean', help: 'refuse skips out of place (on)' },
  'min-expansion': { kind: 'number', help: 'sub-blocks that may never skip (default 2)' },
};

/**
 * `sgnas cost`: one JSON object with the exact FLOPs (conv multiply-
 * accumulates, in M) and parameters of an architecture file.
 */
export async function costCommand(argv: string[]): Promise<number> {
  const { options } = parseArgs(argv, COST_OPTIONS);
  if (typeof options.arch !== 'string') {
    throw new UsageError('cost needs --arch FILE (a JSON file {"layers": [[op x6], ...]})');
  }
  const classes = (options.classes as number | undefined) ?? 10;
  if (!Number.isInteger(classes) || classes < 1) {
    throw new UsageError(`--classes must be a positive integer, got ${classes}`);
  }

  let preset;
  try {
    preset = getPreset((options.preset as string | undefined) ?? 'fmnist');
  } catch (err) {
    throw new UsageError((err as Error).message);
  }

  let text: string;
  try {
    text = readFileSync(options.arch, 'utf8');
  } catch {
    throw new UsageError(`cannot read --arch ${options.arch}; check the path`);
  }

  const spaceOptions = {
    forcedSampling: (options['forced-sampling'] as boolean | undefined) ?? true,
    minExpansion: (options['min-expansion'] as number | undefined) ?? 2,
  };
  let arch;
  try {
    arch = parseArchitectureJson(text, preset, spaceOptions);
  } catch (err) {
    throw new UsageError(`${options.arch}: ${(err as Error).message}`);
  }

  const result = {
    preset: preset.name,
    classes,
    flopsM: flopsM(arch, preset),
    params: paramCount(arch, preset, classes),
  };
  console.log(JSON.stringify(result));
  return 0;
}

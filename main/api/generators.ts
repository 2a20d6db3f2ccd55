/**
 * The trained generators the Generate view can run: those of completed
 * search runs in the registry, and those shipped under resources/ (each a
 * run folder: config.json plus checkpoints/generator-epoch-NNNN/).
 *
 * A generator is loaded once and kept (a few at most), so moving the budget
 * slider costs one forward pass, not a checkpoint read.
 */
import fs from 'node:fs';
import path from 'node:path';

import { initBackend } from '../engine/backend.js';
import { ArchitectureGenerator } from '../engine/nn/generator.js';
import { generateArchitectures } from '../engine/pipeline/generate.js';
import { readRunConfig } from '../engine/pipeline/runFolder.js';
import type { SearchConfig } from '../engine/pipeline/config.js';
import { buildPrior, constraintOf, spaceOptionsOf } from '../engine/pipeline/search.js';
import { formatArchitecture } from '../engine/space/architecture.js';
import { getPreset } from '../engine/space/presets.js';
import type { PriorPool } from '../engine/space/priors.js';
import type { Architecture } from '../engine/space/types.js';
import { latestCheckpoint, loadCheckpoint } from '../engine/train/checkpoint.js';
import { GENERATOR_CHECKPOINT } from '../engine/train/generatorTrainer.js';
import type { GeneratedItem, GeneratorInfo } from './contract.js';
import { ApiError } from './errors.js';
import type { GeneratorCatalog, RegistryPort } from './service.js';

/** Loaded generators kept in memory; the oldest is released beyond this. */
const LOADED_KEPT = 3;

interface LoadedGenerator {
  config: SearchConfig;
  generator: ArchitectureGenerator;
  prior: Architecture | PriorPool;
}

/** A folder holding a configuration and at least one generator checkpoint. */
async function isGeneratorFolder(dir: string): Promise<boolean> {
  if (!fs.existsSync(path.join(dir, 'config.json'))) return false;
  const checkpoints = path.join(dir, 'checkpoints');
  return (await latestCheckpoint(checkpoints, GENERATOR_CHECKPOINT).catch(() => null)) !== null;
}

/** Describes a generator folder for the picker, or null when its config is unusable. */
function describe(id: string, label: string, source: GeneratorInfo['source'], dir: string) {
  try {
    const config = readRunConfig(dir);
    const preset = getPreset(config.preset);
    const constraint = constraintOf(config, preset);
    return { id, label: `${label} (${preset.name})`, source, preset: preset.name, constraint };
  } catch {
    return null;
  }
}

/**
 * The generator catalog over a registry and a resources folder.
 *
 * @param registry where completed runs are found (their folders hold the checkpoints).
 * @param resourcesDir the app's resources/ folder.
 */
export function createGeneratorCatalog(
  registry: Pick<RegistryPort, 'listRuns' | 'runFolder'>,
  resourcesDir: string,
): GeneratorCatalog & { close(): void } {
  const loaded = new Map<string, LoadedGenerator>();

  /** Where a generator id points; ids come from list(), anything else is refused. */
  async function folderOf(id: string): Promise<string> {
    const [source, name] = [id.slice(0, id.indexOf(':')), id.slice(id.indexOf(':') + 1)];
    // One plain folder name: no separators, and never '.' or '..'.
    const safe = /^[A-Za-z0-9._-]+$/.test(name) && !/^\.+$/.test(name);
    const dir =
      source === 'run' && safe
        ? registry.runFolder(name)
        : source === 'resources' && safe
          ? path.join(resourcesDir, name)
          : null;
    if (!dir || !(await isGeneratorFolder(dir))) {
      throw new ApiError(
        'not-found',
        `no trained generator '${id}': pick one that listGenerators returns`,
      );
    }
    return dir;
  }

  async function load(id: string): Promise<LoadedGenerator> {
    const cached = loaded.get(id);
    if (cached) return cached;

    const dir = await folderOf(id);
    const config = readRunConfig(dir);
    const preset = getPreset(config.preset);
    const options = spaceOptionsOf(config);
    const constraint = constraintOf(config, preset);
    await initBackend(config.backend === 'wasm' ? 'wasm' : undefined);

    const generator = new ArchitectureGenerator(preset.layers.length, config.seed + 7, options);
    const latest = await latestCheckpoint(path.join(dir, 'checkpoints'), GENERATOR_CHECKPOINT);
    await loadCheckpoint(latest as string, { store: generator.store });
    const prior = buildPrior({ config, preset, options, constraint });

    const entry = { config, generator, prior };
    loaded.set(id, entry);
    if (loaded.size > LOADED_KEPT) {
      const [oldest] = loaded.keys();
      loaded.get(oldest)?.generator.dispose();
      loaded.delete(oldest);
    }
    return entry;
  }

  return {
    async list() {
      const found: GeneratorInfo[] = [];
      if (fs.existsSync(resourcesDir)) {
        for (const name of fs.readdirSync(resourcesDir).sort()) {
          const dir = path.join(resourcesDir, name);
          if (!(await isGeneratorFolder(dir))) continue;
          const info = describe(`resources:${name}`, `shipped: ${name}`, 'resources', dir);
          if (info) found.push(info);
        }
      }

      const runs = await registry.listRuns({ status: 'completed' });
      for (const run of runs) {
        const dir = registry.runFolder(run.id);
        if (!(await isGeneratorFolder(dir))) continue;
        const info = describe(`run:${run.id}`, run.name || run.id, 'run', dir);
        if (info) found.push(info);
      }
      return found;
    },

    async generate(generatorId, budgetsM): Promise<GeneratedItem[]> {
      const { config, generator, prior } = await load(generatorId);
      const preset = getPreset(config.preset);

      try {
        const { results } = await generateArchitectures(
          generator,
          preset,
          spaceOptionsOf(config),
          budgetsM,
          prior,
          { classes: config.classes ?? 10, constraint: constraintOf(config, preset) },
        );
        return results.map((r) => ({
          budgetM: r.targetM,
          compact: formatArchitecture(r.architecture),
          flopsM: r.flopsM,
          params: r.params,
        }));
      } catch (err) {
        if (err instanceof RangeError) {
          throw new ApiError('invalid-payload', `generate: ${err.message}`);
        }
        throw err;
      }
    },

    close() {
      for (const entry of loaded.values()) entry.generator.dispose();
      loaded.clear();
    },
  };
}

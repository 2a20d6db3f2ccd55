/**
 * Architectures under a FLOPs budget, and the two variation operators of
 * evolution (mutation and crossover), for the baselines of method.md section 8.
 */
import type { Rng } from '../rng.js';
import { flopsM } from '../space/costModel.js';
import { randomArchitecture, tiltedRandomArchitecture } from '../space/sampling.js';
import type { Architecture, Preset, SpaceOptions } from '../space/types.js';

/** Uniform draws tried before sampling switches to tilted draws. */
export const UNIFORM_TRIES = 2000;

/** One architecture and its exact FLOPs. */
export interface CostedArchitecture {
  architecture: Architecture;
  flopsM: number;
}

/**
 * A random architecture whose FLOPs do not exceed the budget: uniform draws
 * rejected until one fits (the baselines' "sample under the budget").
 *
 * Ours: a budget near the bottom of the FLOPs range is rarely met by uniform
 * draws, so after UNIFORM_TRIES misses the draws are tilted towards small
 * architectures (tilt uniform in [0, 0.5]); every architecture stays possible.
 *
 * @throws RangeError when the budget lies below what any architecture costs
 *   (checked by the caller with checkBudgets), after 100,000 misses.
 */
export function sampleUnderBudget(
  preset: Preset,
  options: SpaceOptions,
  budgetM: number,
  rng: Rng,
): CostedArchitecture {
  for (let t = 0; t < UNIFORM_TRIES; t++) {
    const architecture = randomArchitecture(preset, options, rng);
    const cost = flopsM(architecture, preset);
    if (cost <= budgetM) return { architecture, flopsM: cost };
  }

  for (let t = 0; t < 100_000; t++) {
    const architecture = tiltedRandomArchitecture(preset, options, rng, rng.next() * 0.5);
    const cost = flopsM(architecture, preset);
    if (cost <= budgetM) return { architecture, flopsM: cost };
  }
  throw new RangeError(
    `no architecture of preset '${preset.name}' found under ${budgetM} MFLOPs after ` +
      `${UNIFORM_TRIES + 100_000} draws: raise the budget`,
  );
}

/**
 * A copy of `parent` in which each layer is, with probability `rate`, redrawn
 * as a random layer configuration of the space.
 */
export function mutate(
  parent: Architecture,
  preset: Preset,
  options: SpaceOptions,
  rate: number,
  rng: Rng,
): Architecture {
  const fresh = randomArchitecture(preset, options, rng);
  return {
    layers: parent.layers.map((ops, l) => [...(rng.next() < rate ? fresh.layers[l] : ops)]),
  };
}

/** A child taking each layer from one of the two parents, chosen evenly. */
export function crossover(a: Architecture, b: Architecture, rng: Rng): Architecture {
  return { layers: a.layers.map((ops, l) => [...(rng.next() < 0.5 ? ops : b.layers[l])]) };
}

/**
 * Priors: architectures fed to the generator beside the target (method.md
 * section 7), and a pool of priors at chosen FLOPs values.
 */
import { Rng } from '../rng.js';
import { validateArchitecture } from './architecture.js';
import { flopsM, flopsRangeM } from './costModel.js';
import { randomArchitecture, tiltedRandomArchitecture } from './sampling.js';
import {
  MAX_EXPANSION,
  SUB_BLOCK_OPS,
  type Architecture,
  type Preset,
  type SpaceOptions,
} from './types.js';

/**
 * A random prior: each layer draws an expansion rate in minExpansion..6 and
 * its kept sub-blocks draw kernels, all uniformly (randomArchitecture).
 *
 * @param seed the same seed gives the same prior.
 */
export function randomPrior(preset: Preset, options: SpaceOptions, seed: number): Architecture {
  return randomArchitecture(preset, options, new Rng(seed));
}

/**
 * The generator's prior input: alpha's one-hot encoding of an architecture.
 *
 * @returns row-major data of shape [L, 24], i.e. [L, 6, 4] flattened, with
 *   a 1 at each sub-block's op (SUB_BLOCK_OPS order) and 0 elsewhere.
 */
export function priorToTensorData(arch: Architecture): Float32Array {
  const opCount = SUB_BLOCK_OPS.length;
  const data = new Float32Array(arch.layers.length * MAX_EXPANSION * opCount);

  arch.layers.forEach((ops, l) => {
    if (ops.length !== MAX_EXPANSION) {
      throw new RangeError(
        `prior layer ${l + 1} (counting from 1) has ${ops.length} sub-blocks, ` +
          `expected ${MAX_EXPANSION}`,
      );
    }
    ops.forEach((op, s) => {
      const k = SUB_BLOCK_OPS.indexOf(op);
      if (k < 0) throw new RangeError(`prior layer ${l + 1}, sub-block ${s}: unknown op '${op}'`);
      data[(l * MAX_EXPANSION + s) * opCount + k] = 1;
    });
  });

  return data;
}

/** One prior of a pool: the FLOPs it was asked for and the FLOPs it has. */
export interface PriorEntry {
  targetM: number;
  flopsM: number;
  prior: Architecture;
}

/** A deep copy, so a pool never shares arrays with its caller. */
function copyEntry(entry: PriorEntry): PriorEntry {
  const layers = entry.prior.layers.map((ops) => [...ops]);
  return { targetM: entry.targetM, flopsM: entry.flopsM, prior: { layers } };
}

/** How PriorPool.build searches. */
export interface PriorPoolBuildOptions {
  seed: number;
  /** Accept a prior within this many MFLOPs of its target (default: 1% of the
   *  preset's constraint interval). */
  toleranceM?: number;
  /** Random architectures drawn per target before giving up (default 20,000). */
  maxTries?: number;
}

/**
 * Priors kept near chosen FLOPs values; the generator is fed the prior
 * nearest its target.
 *
 * Ours: each try draws a tilt uniformly from [0, 1] and then a
 * tiltedRandomArchitecture. Uniform random architectures crowd the middle of
 * the FLOPs range (cifar: mean about 105 M, sd 8.5 M, over 51..172 M), so the
 * edges of a constraint interval are rarely hit (imagenet's 450 M lies 3.8 sd
 * above the mean); the tilt spreads the tries over the whole range while
 * keeping every architecture possible.
 */
export class PriorPool {
  readonly entries: readonly PriorEntry[];

  /**
   * @param entries saved entries (e.g. from toJSON()); at least one.
   * @throws RangeError when there are none.
   */
  constructor(entries: PriorEntry[]) {
    if (entries.length === 0) throw new RangeError('a prior pool needs at least one prior');
    this.entries = entries.map(copyEntry);
  }

  /**
   * Draws one prior per target, each within toleranceM of its target.
   *
   * @throws RangeError when a target lies outside the preset's FLOPs range
   *   (no architecture can reach it), and Error naming the target, the closest
   *   FLOPs found and the remedies when maxTries draws all miss.
   */
  static build(
    preset: Preset,
    options: SpaceOptions,
    targetsM: readonly number[],
    buildOptions: PriorPoolBuildOptions,
  ): PriorPool {
    const { minM, maxM } = flopsRangeM(preset, options);
    const { lowM, highM } = preset.constraint;
    const toleranceM = buildOptions.toleranceM ?? 0.01 * (highM - lowM);
    const maxTries = buildOptions.maxTries ?? 20_000;
    const rng = new Rng(buildOptions.seed);

    const entries = targetsM.map((targetM) => {
      if (!(targetM >= minM - toleranceM && targetM <= maxM + toleranceM)) {
        throw new RangeError(
          `prior target ${targetM} MFLOPs is outside preset '${preset.name}' range ` +
            `${minM}..${maxM} MFLOPs: pick targets inside it`,
        );
      }
      return PriorPool.drawNear(preset, options, targetM, toleranceM, maxTries, rng);
    });

    return new PriorPool(entries);
  }

  private static drawNear(
    preset: Preset,
    options: SpaceOptions,
    targetM: number,
    toleranceM: number,
    maxTries: number,
    rng: Rng,
  ): PriorEntry {
    let closestM = NaN;

    for (let t = 0; t < maxTries; t++) {
      const prior = tiltedRandomArchitecture(preset, options, rng, rng.next());
      const m = flopsM(prior, preset);
      if (Math.abs(m - targetM) <= toleranceM) return { targetM, flopsM: m, prior };
      if (!(Math.abs(closestM - targetM) <= Math.abs(m - targetM))) closestM = m;
    }

    throw new Error(
      `no random prior within ${toleranceM} MFLOPs of ${targetM} MFLOPs after ` +
        `${maxTries} tries (closest: ${closestM} MFLOPs); raise toleranceM or maxTries`,
    );
  }

  /**
   * The prior whose FLOPs are nearest the target (the first one on a tie).
   */
  nearest(targetM: number): PriorEntry {
    let best = this.entries[0];
    for (const entry of this.entries) {
      if (Math.abs(entry.flopsM - targetM) < Math.abs(best.flopsM - targetM)) best = entry;
    }
    return best;
  }

  /** The entries as plain JSON data. */
  toJSON(): PriorEntry[] {
    return this.entries.map(copyEntry);
  }

  /**
   * Rebuilds a saved pool, checking every prior against the preset and
   * recomputing its FLOPs (so a pool saved for another preset is refused).
   */
  static fromJSON(entries: PriorEntry[], preset: Preset, options: SpaceOptions): PriorPool {
    const checked = entries.map((e) => {
      validateArchitecture(e.prior, preset, options);
      return { targetM: e.targetM, flopsM: flopsM(e.prior, preset), prior: e.prior };
    });
    return new PriorPool(checked);
  }
}

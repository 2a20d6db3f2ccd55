/**
 * Sampling architectures: uniform random architectures, and the fair sampler
 * that trains the supernet (method.md section 5).
 */
import { validateSpaceOptions } from './architecture.js';
import type { Rng } from '../rng.js';
import {
  KERNEL_OPS,
  MAX_EXPANSION,
  type Architecture,
  type Preset,
  type SpaceOptions,
  type SubBlockOp,
} from './types.js';

/**
 * The sub-blocks a layer keeps at expansion e: with forcedSampling the first
 * e; otherwise those below minExpansion plus a random choice of the rest.
 * Returned in ascending order.
 */
function keptPositions(e: number, options: SpaceOptions, rng: Rng): number[] {
  const m = options.minExpansion;
  if (options.forcedSampling) return Array.from({ length: e }, (_, s) => s);

  const optional = Array.from({ length: MAX_EXPANSION - m }, (_, j) => m + j);
  const chosen = rng.shuffle(optional).slice(0, e - m);
  const base = Array.from({ length: m }, (_, s) => s);
  return [...base, ...chosen.sort((a, b) => a - b)];
}

/** The expansion rates a layer may take: minExpansion..6. */
export function expansionRates(options: SpaceOptions): number[] {
  const m = options.minExpansion;
  return Array.from({ length: MAX_EXPANSION - m + 1 }, (_, i) => m + i);
}

/**
 * A uniformly random architecture: each layer draws its expansion rate from
 * minExpansion..6, then its kept positions (see keptPositions), then a kernel
 * for each kept sub-block, all uniformly.
 *
 * @param rng the only source of randomness (the same state gives the same
 *   architecture).
 */
export function randomArchitecture(
  preset: Preset,
  options: SpaceOptions,
  rng: Rng,
): Architecture {
  validateSpaceOptions(options);
  const rates = expansionRates(options);

  const layers = preset.layers.map(() => {
    const e = rates[rng.int(rates.length)];
    const ops: SubBlockOp[] = new Array(MAX_EXPANSION).fill('skip');
    for (const s of keptPositions(e, options, rng)) {
      ops[s] = KERNEL_OPS[rng.int(KERNEL_OPS.length)];
    }
    return ops;
  });

  return { layers };
}

/** Number of successes in n trials of probability q. */
function binomial(n: number, q: number, rng: Rng): number {
  let count = 0;
  for (let i = 0; i < n; i++) if (rng.next() < q) count++;
  return count;
}

/**
 * A random architecture tilted towards small (tilt near 0) or large (tilt
 * near 1) FLOPs: each layer's expansion is minExpansion + Binomial(6 -
 * minExpansion, tilt) and each kernel index (3x3, 5x5, 7x7) is
 * Binomial(2, tilt). At tilt 0.5 the mean expansion and kernel match
 * randomArchitecture; for tilt strictly inside (0, 1) every architecture of
 * the space can be drawn.
 *
 * @param tilt in [0, 1]: 0 gives the smallest architecture, 1 the largest.
 */
export function tiltedRandomArchitecture(
  preset: Preset,
  options: SpaceOptions,
  rng: Rng,
  tilt: number,
): Architecture {
  validateSpaceOptions(options);
  if (!(tilt >= 0 && tilt <= 1)) throw new RangeError(`tilt must lie in [0, 1], got ${tilt}`);
  const m = options.minExpansion;

  const layers = preset.layers.map(() => {
    const e = m + binomial(MAX_EXPANSION - m, tilt, rng);
    const ops: SubBlockOp[] = new Array(MAX_EXPANSION).fill('skip');
    for (const s of keptPositions(e, options, rng)) {
      ops[s] = KERNEL_OPS[binomial(KERNEL_OPS.length - 1, tilt, rng)];
    }
    return ops;
  });

  return { layers };
}

/** The saved state of a FairSampler, plain JSON. */
export interface FairSamplerState {
  rngState: number;
  /** Per layer and sub-block, the kernels left in its current cycle. */
  cycles: SubBlockOp[][][];
}

/**
 * The fair sampler of method.md section 5. Each batch holds one architecture
 * per expansion rate (5 for minExpansion 2): for every layer the rates are
 * shuffled and dealt one per architecture, so each rate trains every layer
 * once per batch. Each (layer, sub-block) draws its kernels in turn from its
 * own shuffled cycle of {3x3, 5x5, 7x7}, so every op trains equally often.
 *
 * Porting note: the authors' code runs only 4 of the 5 rates per step; this
 * sampler deals all of them.
 *
 * @example
 *   const sampler = new FairSampler(preset, DEFAULT_SPACE_OPTIONS, rng.fork());
 *   for (const arch of sampler.nextBatch()) { ... one forward/backward each ... }
 */
export class FairSampler {
  private readonly preset: Preset;
  private readonly options: SpaceOptions;
  private readonly rng: Rng;
  private cycles: SubBlockOp[][][];

  /**
   * @param rng used by this sampler alone (pass a fork): its state is part of
   *   getState(), so setState() rewinds it too.
   */
  constructor(preset: Preset, options: SpaceOptions, rng: Rng) {
    validateSpaceOptions(options);
    this.preset = preset;
    this.options = options;
    this.rng = rng;
    this.cycles = preset.layers.map(() => Array.from({ length: MAX_EXPANSION }, () => []));
  }

  /** Architectures per batch: the number of expansion rates. */
  get batchSize(): number {
    return expansionRates(this.options).length;
  }

  /** The next kernel of one (layer, sub-block), refilling its cycle when empty. */
  private nextKernel(l: number, s: number): SubBlockOp {
    const cycle = this.cycles[l][s];
    if (cycle.length === 0) cycle.push(...this.rng.shuffle([...KERNEL_OPS]));
    return cycle.shift() as SubBlockOp;
  }

  /**
   * Draws the next batch.
   *
   * @returns batchSize architectures; in each layer they take every
   *   expansion rate exactly once.
   */
  nextBatch(): Architecture[] {
    const archs: Architecture[] = Array.from({ length: this.batchSize }, () => ({ layers: [] }));

    this.preset.layers.forEach((_, l) => {
      const rates = this.rng.shuffle(expansionRates(this.options));
      rates.forEach((e, j) => {
        const ops: SubBlockOp[] = new Array(MAX_EXPANSION).fill('skip');
        for (const s of keptPositions(e, this.options, this.rng)) ops[s] = this.nextKernel(l, s);
        archs[j].layers.push(ops);
      });
    });

    return archs;
  }

  /** A JSON-serialisable snapshot: the rng state and every kernel cycle. */
  getState(): FairSamplerState {
    return {
      rngState: this.rng.getState(),
      cycles: this.cycles.map((layer) => layer.map((cycle) => [...cycle])),
    };
  }

  /**
   * Restores a snapshot from getState() (possibly after a JSON round trip), so
   * the following batches are exactly those the saved sampler would draw.
   *
   * @throws RangeError when the snapshot does not fit this preset.
   */
  setState(state: FairSamplerState): void {
    const layerCount = this.preset.layers.length;
    const fits =
      Number.isInteger(state?.rngState) &&
      Array.isArray(state.cycles) &&
      state.cycles.length === layerCount &&
      state.cycles.every(
        (layer) =>
          Array.isArray(layer) &&
          layer.length === MAX_EXPANSION &&
          layer.every(
            (cycle) =>
              Array.isArray(cycle) &&
              cycle.length <= KERNEL_OPS.length &&
              cycle.every((op) => KERNEL_OPS.includes(op)),
          ),
      );
    if (!fits) {
      throw new RangeError(
        `fair sampler state does not fit preset '${this.preset.name}' ` +
          `(${layerCount} layers x ${MAX_EXPANSION} sub-blocks of kernel cycles): ` +
          `${JSON.stringify(state).slice(0, 200)}`,
      );
    }

    this.rng.setState(state.rngState);
    this.cycles = state.cycles.map((layer) => layer.map((cycle) => [...cycle]));
  }
}

/**
 * Discrete architectures: validation against a preset and the two text forms.
 *
 * Layer numbers in error messages count from 1 ("layer 1" is the first
 * searchable layer); sub-block numbers count from 0, as in the paper
 * ("sub-blocks 0..e-1 are kept").
 *
 * Compact text form: one token per searchable layer, tokens joined by a single
 * space. A token has exactly MAX_EXPANSION (6) characters; character i is the
 * op of sub-block i: '3', '5' or '7' for a depthwise kernel, '-' for skip.
 * Example for a 3-layer space: "33---- 557--- 777777".
 *
 * JSON form: {"layers": [["3x3","5x5","skip","skip","skip","skip"], ...]}.
 */
import {
  DEFAULT_SPACE_OPTIONS,
  MAX_EXPANSION,
  SUB_BLOCK_OPS,
  type Architecture,
  type Preset,
  type SpaceOptions,
  type SubBlockOp,
} from './types.js';

/** An architecture that does not fit its search space, or text that is not one. */
export class ArchitectureError extends Error {
  /** Index (0-based) of the offending layer, when one layer is at fault. */
  readonly layerIndex: number | undefined;

  constructor(message: string, layerIndex?: number) {
    super(message);
    this.name = 'ArchitectureError';
    this.layerIndex = layerIndex;
  }
}

const OP_TO_CHAR: Record<SubBlockOp, string> = { '3x3': '3', '5x5': '5', '7x7': '7', skip: '-' };
const CHAR_TO_OP: Record<string, SubBlockOp> = { '3': '3x3', '5': '5x5', '7': '7x7', '-': 'skip' };

/**
 * The expansion rate of one unified block: how many of its sub-blocks are kept.
 *
 * @param layerOps the ops of the layer's sub-blocks.
 * @returns the number of ops that are not 'skip'.
 */
export function expansionRate(layerOps: readonly SubBlockOp[]): number {
  return layerOps.filter((op) => op !== 'skip').length;
}

/**
 * Checks that space options make sense: minExpansion an integer in 1..6.
 *
 * @throws RangeError quoting the bad value.
 */
export function validateSpaceOptions(options: SpaceOptions): void {
  const m = options.minExpansion;
  if (!Number.isInteger(m) || m < 1 || m > MAX_EXPANSION) {
    throw new RangeError(
      `minExpansion must be an integer in 1..${MAX_EXPANSION}, got ${m}`,
    );
  }
}

function layerName(l: number, total: number): string {
  return `layer ${l + 1} of ${total} (layers count from 1)`;
}

function validateLayer(
  ops: unknown,
  l: number,
  total: number,
  options: SpaceOptions,
): void {
  const where = layerName(l, total);
  if (!Array.isArray(ops) || ops.length !== MAX_EXPANSION) {
    const seen = Array.isArray(ops) ? `${ops.length} sub-blocks` : JSON.stringify(ops);
    throw new ArchitectureError(
      `${where}: expected ${MAX_EXPANSION} sub-blocks, got ${seen}`,
      l,
    );
  }

  ops.forEach((op, s) => {
    if (!SUB_BLOCK_OPS.includes(op as SubBlockOp)) {
      throw new ArchitectureError(
        `${where}, sub-block ${s} (sub-blocks count from 0): unknown op ` +
          `${JSON.stringify(op)}; use one of ${SUB_BLOCK_OPS.join(', ')}`,
        l,
      );
    }
    if (op === 'skip' && s < options.minExpansion) {
      throw new ArchitectureError(
        `${where}: sub-block ${s} (sub-blocks count from 0) is 'skip', but ` +
          `sub-blocks below minExpansion ${options.minExpansion} must keep a kernel ` +
          `(expansion rate would fall below ${options.minExpansion})`,
        l,
      );
    }
  });

  if (options.forcedSampling) {
    const firstSkip = ops.indexOf('skip');
    const keptAfter =
      firstSkip < 0 ? -1 : ops.findIndex((op, s) => s > firstSkip && op !== 'skip');
    if (keptAfter >= 0) {
      throw new ArchitectureError(
        `${where}: with forcedSampling, skips must fill the highest sub-blocks, but ` +
          `sub-block ${firstSkip} is 'skip' while sub-block ${keptAfter} keeps ` +
          `'${ops[keptAfter]}' (sub-blocks count from 0); move the skips to the end`,
        l,
      );
    }
  }
}

/**
 * Checks that an architecture belongs to a preset's search space.
 *
 * @param arch the architecture (may come from untrusted JSON).
 * @param preset the space it should fit: one entry per searchable layer.
 * @param options forcedSampling and minExpansion of the space.
 * @throws ArchitectureError naming the layer (from 1) and what is wrong: the
 *   layer count, the sub-block count, an unknown op, a skip below
 *   minExpansion, or (forcedSampling on) a skip followed by a kept sub-block.
 */
export function validateArchitecture(
  arch: Architecture,
  preset: Preset,
  options: SpaceOptions = DEFAULT_SPACE_OPTIONS,
): void {
  validateSpaceOptions(options);
  const layers: unknown = (arch as { layers?: unknown } | null)?.layers;
  if (!Array.isArray(layers)) {
    throw new ArchitectureError(
      `an architecture needs a 'layers' array, got ${JSON.stringify(layers)}`,
    );
  }

  const expected = preset.layers.length;
  if (layers.length !== expected) {
    throw new ArchitectureError(
      `preset '${preset.name}' has ${expected} searchable layers, but the ` +
        `architecture has ${layers.length}`,
    );
  }

  layers.forEach((ops, l) => validateLayer(ops, l, expected, options));
}

/**
 * Writes an architecture in the compact text form (see the file comment).
 *
 * @example formatArchitecture({ layers: [['3x3','5x5','skip','skip','skip','skip']] })
 *   // '35----'
 */
export function formatArchitecture(arch: Architecture): string {
  return arch.layers.map((ops) => ops.map((op) => OP_TO_CHAR[op]).join('')).join(' ');
}

/**
 * Reads the compact text form and validates the result against a preset.
 *
 * @param text tokens of 6 characters from '3', '5', '7', '-', separated by
 *   whitespace (leading and trailing whitespace is ignored).
 * @throws ArchitectureError for a bad token (quoting it) or an architecture
 *   that does not fit the preset.
 */
export function parseArchitectureText(
  text: string,
  preset: Preset,
  options: SpaceOptions = DEFAULT_SPACE_OPTIONS,
): Architecture {
  const tokens = text.trim().split(/\s+/).filter((t) => t.length > 0);
  const layers = tokens.map((token, l) => {
    if (token.length !== MAX_EXPANSION || [...token].some((c) => !(c in CHAR_TO_OP))) {
      throw new ArchitectureError(
        `${layerName(l, tokens.length)}: token '${token}' should be ${MAX_EXPANSION} ` +
          `characters from '3', '5', '7' and '-' (skip), e.g. '3357--'`,
        l,
      );
    }
    return [...token].map((c) => CHAR_TO_OP[c]);
  });

  const arch = { layers };
  validateArchitecture(arch, preset, options);
  return arch;
}

/**
 * Writes an architecture as JSON: {"layers": [["3x3", ...], ...]}.
 */
export function architectureToJson(arch: Architecture): string {
  return JSON.stringify({ layers: arch.layers });
}

/**
 * Reads the JSON form (a string, or an already parsed value) and validates it.
 *
 * @throws ArchitectureError when the text is not JSON or the architecture does
 *   not fit the preset.
 */
export function parseArchitectureJson(
  json: string | unknown,
  preset: Preset,
  options: SpaceOptions = DEFAULT_SPACE_OPTIONS,
): Architecture {
  let value: unknown = json;
  if (typeof json === 'string') {
    try {
      value = JSON.parse(json);
    } catch (err) {
      throw new ArchitectureError(
        `architecture JSON does not parse (${(err as Error).message}); expected ` +
          `{"layers": [["3x3","5x5","skip",...], ...]}`,
      );
    }
  }

  const arch = value as Architecture;
  validateArchitecture(arch, preset, options);
  return { layers: arch.layers.map((ops) => [...ops]) };
}

/**
 * The search-space presets: the fixed stem, first block and head, and the
 * searchable layers of each space. Presets are plain data so that a preset
 * can be tuned (for speed, say) without touching any logic.
 */
import type { LayerDef, LayerShape, Preset } from './types.js';

/** Expands `count` copies of one searchable layer definition. */
function repeat(cOut: number, stride: 1 | 2, count: number): LayerDef[] {
  return Array.from({ length: count }, () => ({ cOut, stride }));
}

/** The paper's ImageNet space (method.md section 3): 19 layers, 224x224x3 input. */
const imagenet: Preset = {
  name: 'imagenet',
  inputSize: 224,
  inputChannels: 3,
  stem: { channels: 32, stride: 2 },
  firstBlockChannels: 16,
  layers: [
    ...repeat(32, 2, 1),
    ...repeat(32, 1, 1),
    ...repeat(40, 2, 1),
    ...repeat(40, 1, 3),
    ...repeat(80, 2, 1),
    ...repeat(80, 1, 3),
    ...repeat(96, 1, 4),
    ...repeat(192, 2, 1),
    ...repeat(192, 1, 3),
    ...repeat(320, 1, 1),
  ],
  headChannels: 1280,
  constraint: { lowM: 270, highM: 450 },
};

/** The CIFAR space: the ImageNet layers at 32x32, stem and first layer at stride 1. */
const cifar: Preset = {
  name: 'cifar',
  inputSize: 32,
  inputChannels: 3,
  stem: { channels: 32, stride: 1 },
  firstBlockChannels: 16,
  layers: [{ cOut: 32, stride: 1 }, ...imagenet.layers.slice(1)],
  headChannels: 1280,
  constraint: { lowM: 80, highM: 120 },
};

/**
 * Our CPU space for Fashion-MNIST (28x28x1): 5 searchable layers, small enough
 * for a whole search in minutes on two cores. The first searchable layer
 * already halves the resolution (14 -> 7): on wasm the cost of a training step
 * follows the activations' size, and 7x7 maps keep five layers affordable.
 *
 * FLOPs range (minExpansion 2), from flopsRangeM: smallest 0.495568 M (every
 * layer "33----"), largest 1.878 M (every layer "777777"); the fixed part is
 * 0.147072 M. The constraint is the inner 25%..75% band of that range
 * (0.841..1.532 M) rounded to 0.85..1.5 M.
 */
const fmnist: Preset = {
  name: 'fmnist',
  inputSize: 28,
  inputChannels: 1,
  stem: { channels: 16, stride: 2 },
  firstBlockChannels: 8,
  layers: [
    { cOut: 16, stride: 2 },
    { cOut: 16, stride: 1 },
    { cOut: 24, stride: 1 },
    { cOut: 32, stride: 2 },
    { cOut: 32, stride: 1 },
  ],
  headChannels: 128,
  constraint: { lowM: 0.85, highM: 1.5 },
};

/** Every preset by name. */
export const PRESETS: Record<string, Preset> = { imagenet, cifar, fmnist };

/**
 * Looks a preset up by name.
 *
 * @param name one of the keys of PRESETS, e.g. 'cifar'.
 * @returns the preset (shared data: copy it before changing it).
 * @throws RangeError naming the unknown preset and the known ones.
 */
export function getPreset(name: string): Preset {
  const preset = Object.hasOwn(PRESETS, name) ? PRESETS[name] : undefined;
  if (!preset) {
    const known = Object.keys(PRESETS).join(', ');
    throw new RangeError(`unknown preset '${name}': choose one of ${known}`);
  }
  return preset;
}

/** Output resolution of a "same"-padded conv: ceil(size / stride). */
export function stridedSize(size: number, stride: number): number {
  return Math.ceil(size / stride);
}

/** Resolution after the stem, i.e. the input resolution of the first block. */
export function stemOutputSize(preset: Preset): number {
  return stridedSize(preset.inputSize, preset.stem.stride);
}

/**
 * Resolves the channels and resolutions of every searchable layer.
 *
 * @param preset the search space.
 * @returns one LayerShape per searchable layer, in order; inSize is the
 *   layer's input resolution, outSize = ceil(inSize / stride), and residual
 *   is set when the stride is 1 and the channel count does not change.
 */
export function layerShapes(preset: Preset): LayerShape[] {
  const shapes: LayerShape[] = [];
  let cIn = preset.firstBlockChannels;
  let size = stemOutputSize(preset);

  for (const def of preset.layers) {
    const outSize = stridedSize(size, def.stride);
    shapes.push({
      cIn,
      cOut: def.cOut,
      stride: def.stride,
      inSize: size,
      outSize,
      residual: def.stride === 1 && cIn === def.cOut,
    });
    cIn = def.cOut;
    size = outSize;
  }

  return shapes;
}

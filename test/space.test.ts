import { describe, expect, it } from 'vitest';

import { Rng } from '../main/engine/rng.js';
import {
  ArchitectureError,
  architectureToJson,
  expansionRate,
  formatArchitecture,
  parseArchitectureJson,
  parseArchitectureText,
  validateArchitecture,
} from '../main/engine/space/architecture.js';
import {
  canonicalLayer,
  countLayerConfigurations,
  countLayerOpLists,
  enumerateLayerConfigurations,
  searchSpaceSizeLog10,
} from '../main/engine/space/configurations.js';
import { flopsRangeM } from '../main/engine/space/costModel.js';
import { decodeAlpha, skipMask } from '../main/engine/space/decode.js';
import { getPreset, layerShapes, PRESETS } from '../main/engine/space/presets.js';
import { priorToTensorData } from '../main/engine/space/priors.js';
import { randomArchitecture } from '../main/engine/space/sampling.js';
import {
  SUB_BLOCK_OPS,
  type Architecture,
  type SpaceOptions,
  type SubBlockOp,
} from '../main/engine/space/types.js';

const FS: SpaceOptions = { forcedSampling: true, minExpansion: 2 };
const FREE: SpaceOptions = { forcedSampling: false, minExpansion: 2 };
const cifar = getPreset('cifar');

/** Every layer of the preset set to the ops of a 6-character token. */
function uniform(token: string, layers = cifar.layers.length): Architecture {
  const ops = [...token].map((c) => ({ '3': '3x3', '5': '5x5', '7': '7x7', '-': 'skip' })[c]);
  return { layers: Array.from({ length: layers }, () => ops as SubBlockOp[]) };
}

describe('presets', () => {
  it('imagenet and cifar have the paper\'s 19 searchable layers', () => {
    expect(getPreset('imagenet').layers).toHaveLength(19);
    expect(getPreset('cifar').layers).toHaveLength(19);
  });

  it('cifar differs from imagenet only in input size, stem stride and the first stride', () => {
    const imagenet = getPreset('imagenet');
    expect(cifar.inputSize).toBe(32);
    expect(cifar.stem.stride).toBe(1);
    expect(cifar.layers[0]).toEqual({ cOut: 32, stride: 1 });
    expect(cifar.layers.slice(1)).toEqual(imagenet.layers.slice(1));
    expect(cifar.constraint).toEqual({ lowM: 80, highM: 120 });
    expect(imagenet.constraint).toEqual({ lowM: 270, highM: 450 });
  });

  it('an unknown preset name is refused with the known names listed', () => {
    expect(() => getPreset('mnist')).toThrow(/'mnist'.*imagenet, cifar, fmnist/);
  });

  it('imagenet resolutions halve at each stride-2 layer down to 7x7', () => {
    const shapes = layerShapes(getPreset('imagenet'));
    // Stem stride 2: 224 -> 112; strides 2 at layers 1, 3, 7, 15 (1-based).
    expect(shapes[0]).toMatchObject({ cIn: 16, cOut: 32, inSize: 112, outSize: 56 });
    expect(shapes.map((s) => s.outSize)).toEqual([
      56, 56, 28, 28, 28, 28, 14, 14, 14, 14, 14, 14, 14, 14, 7, 7, 7, 7, 7,
    ]);
    expect(shapes[18]).toMatchObject({ cIn: 192, cOut: 320, residual: false });
  });

  it('a layer is residual exactly when its stride is 1 and its channels do not change', () => {
    // imagenet: 32/1 once, 40/1 x3, 80/1 x3, 96/1 x3 after the 80->96 layer, 192/1 x3.
    expect(layerShapes(getPreset('imagenet')).filter((s) => s.residual)).toHaveLength(13);
    const fmnist = layerShapes(getPreset('fmnist'));
    expect(fmnist.map((s) => s.residual)).toEqual([false, true, false, false, true]);
  });

  it('fmnist rounds odd resolutions up at stride 2 (14 -> 7 -> 4)', () => {
    const shapes = layerShapes(getPreset('fmnist'));
    expect(shapes.map((s) => [s.inSize, s.outSize])).toEqual([
      [14, 7], [7, 7], [7, 7], [7, 4], [4, 4],
    ]);
    expect(shapes.map((s) => s.cIn)).toEqual([8, 16, 16, 24, 32]);
  });

  it('each preset\'s constraint lies inside the middle of its FLOPs range', () => {
    for (const preset of Object.values(PRESETS)) {
      const { minM, maxM } = flopsRangeM(preset, FS);
      const low = (preset.constraint.lowM - minM) / (maxM - minM);
      const high = (preset.constraint.highM - minM) / (maxM - minM);
      // The paper's intervals sit at about 20%..75% of the range; ours at 25%..75%.
      expect(low).toBeGreaterThan(0.15);
      expect(high).toBeLessThan(0.8);
      expect(high - low).toBeGreaterThan(0.2);
    }
  });
});

describe('architecture validation', () => {
  it('expansionRate counts the kept sub-blocks', () => {
    expect(expansionRate(['3x3', '7x7', 'skip', '5x5', 'skip', 'skip'])).toBe(3);
    expect(expansionRate(['3x3', '3x3', '3x3', '3x3', '3x3', '3x3'])).toBe(6);
  });

  it('accepts the smallest and the largest architecture of a preset', () => {
    expect(() => validateArchitecture(uniform('33----'), cifar, FS)).not.toThrow();
    expect(() => validateArchitecture(uniform('777777'), cifar, FS)).not.toThrow();
  });

  it('a wrong layer count names both counts', () => {
    expect(() => validateArchitecture(uniform('33----', 18), cifar, FS)).toThrow(
      /19 searchable layers, but the architecture has 18/,
    );
  });

  it('a wrong sub-block count names the layer, counting from 1', () => {
    const arch = uniform('33----');
    arch.layers[4] = ['3x3', '3x3', 'skip'];
    expect(() => validateArchitecture(arch, cifar, FS)).toThrow(
      /layer 5 of 19 \(layers count from 1\): expected 6 sub-blocks, got 3/,
    );
  });

  it('an unknown op is quoted with the valid choices', () => {
    const arch = uniform('33----');
    arch.layers[0] = ['3x3', '9x9' as SubBlockOp, 'skip', 'skip', 'skip', 'skip'];
    expect(() => validateArchitecture(arch, cifar, FS)).toThrow(/layer 1 .*"9x9".*3x3, 5x5/);
  });

  it('a skip below minExpansion is refused (it would give expansion 1)', () => {
    const arch = uniform('33----');
    arch.layers[18] = ['3x3', 'skip', '5x5', 'skip', 'skip', 'skip'];
    let caught: unknown;
    try {
      validateArchitecture(arch, cifar, FREE);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ArchitectureError);
    expect((caught as ArchitectureError).layerIndex).toBe(18);
    expect((caught as Error).message).toMatch(/layer 19 of 19.*sub-block 1.*minExpansion 2/);
  });

  it('with forcedSampling a skip before a kept sub-block is refused, without it is fine', () => {
    const arch = uniform('33----');
    arch.layers[2] = ['3x3', '3x3', 'skip', '7x7', 'skip', 'skip'];
    expect(() => validateArchitecture(arch, cifar, FS)).toThrow(
      /layer 3 .*forcedSampling.*sub-block 2 is 'skip' while sub-block 3 keeps '7x7'/,
    );
    expect(() => validateArchitecture(arch, cifar, FREE)).not.toThrow();
  });

  it('refuses a minExpansion outside 1..6', () => {
    const options = { forcedSampling: true, minExpansion: 0 };
    expect(() => validateArchitecture(uniform('33----'), cifar, options)).toThrow(/got 0/);
  });
});

describe('architecture text and JSON forms', () => {
  it('formats one 6-character token per layer, joined by spaces', () => {
    const arch: Architecture = {
      layers: [
        ['3x3', '5x5', 'skip', 'skip', 'skip', 'skip'],
        ['7x7', '7x7', '7x7', '7x7', '7x7', '7x7'],
      ],
    };
    expect(formatArchitecture(arch)).toBe('35---- 777777');
  });

  it('text parse and format round-trip for random architectures', () => {
    const rng = new Rng(7);
    for (let i = 0; i < 50; i++) {
      const options = i % 2 === 0 ? FS : FREE;
      const arch = randomArchitecture(cifar, options, rng);
      const text = formatArchitecture(arch);
      expect(parseArchitectureText(text, cifar, options)).toEqual(arch);
      expect(formatArchitecture(parseArchitectureText(text, cifar, options))).toBe(text);
    }
  });

  it('text parse quotes a bad token and validates against the preset', () => {
    const good = formatArchitecture(uniform('33----'));
    expect(() => parseArchitectureText(good.replace('33----', '33x---'), cifar)).toThrow(
      /layer 1 .*token '33x---'/,
    );
    expect(() => parseArchitectureText('33--- ' + good, cifar)).toThrow(/token '33---'/);
    expect(() => parseArchitectureText('33----', cifar)).toThrow(/has 1$/);
  });

  it('JSON parse and format round-trip, and JSON parse validates', () => {
    const arch = randomArchitecture(cifar, FS, new Rng(3));
    const json = architectureToJson(arch);
    expect(JSON.parse(json)).toEqual({ layers: arch.layers });
    expect(parseArchitectureJson(json, cifar, FS)).toEqual(arch);

    const bad = { layers: arch.layers.map((ops) => [...ops]) };
    bad.layers[6][0] = 'skip';
    expect(() => parseArchitectureJson(JSON.stringify(bad), cifar, FS)).toThrow(/layer 7 /);
    expect(() => parseArchitectureJson('{"layers": [', cifar, FS)).toThrow(/does not parse/);
    expect(() => parseArchitectureJson('{"ops": []}', cifar, FS)).toThrow(/'layers' array/);
  });
});

describe('layer configurations', () => {
  /** Brute force: every op list of 4^6, kept if valid, reduced to its canonical form. */
  function bruteForce(options: SpaceOptions): { opLists: number; distinct: number } {
    const onePreset = { ...cifar, layers: [cifar.layers[0]] };
    const seen = new Set<string>();
    let opLists = 0;
    for (let code = 0; code < 4 ** 6; code++) {
      const ops = Array.from({ length: 6 }, (_, s) => SUB_BLOCK_OPS[(code >> (2 * s)) & 3]);
      try {
        validateArchitecture({ layers: [ops] }, onePreset, options);
      } catch {
        continue;
      }
      opLists++;
      seen.add(canonicalLayer(ops).join(','));
    }
    return { opLists, distinct: seen.size };
  }

  it('with forcedSampling a layer has 80 configurations (6+10+15+21+28 multisets)', () => {
    expect(countLayerConfigurations(FS)).toBe(80);
    expect(bruteForce(FS)).toEqual({ opLists: 1089, distinct: 80 });
    expect(countLayerOpLists(FS)).toBe(1089);
  });

  it('without forcedSampling a layer has 248 configurations (skip positions count)', () => {
    // sum over j extra kept positions of C(4, j) * multisets(2 + j):
    // 1*6 + 4*10 + 6*15 + 4*21 + 1*28 = 248.
    expect(countLayerConfigurations(FREE)).toBe(248);
    expect(bruteForce(FREE)).toEqual({ opLists: 2304, distinct: 248 });
    expect(countLayerOpLists(FREE)).toBe(9 * 256);
  });

  it('the enumerator lists each configuration once, in canonical form, all valid', () => {
    for (const options of [FS, FREE, { forcedSampling: true, minExpansion: 1 }]) {
      const configs = enumerateLayerConfigurations(options);
      expect(configs).toHaveLength(countLayerConfigurations(options));
      expect(new Set(configs.map((c) => c.join(','))).size).toBe(configs.length);
      const onePreset = { ...cifar, layers: [cifar.layers[0]] };
      for (const ops of configs) {
        expect(canonicalLayer(ops)).toEqual(ops);
        validateArchitecture({ layers: [ops] }, onePreset, options);
      }
    }
  });

  it('canonicalLayer sorts kernels along the kept positions and keeps skips in place', () => {
    expect(canonicalLayer(['7x7', '3x3', 'skip', '5x5', 'skip', '3x3'])).toEqual([
      '3x3', '3x3', 'skip', '5x5', 'skip', '7x7',
    ]);
  });

  it('the paper\'s space has 80^19 architectures, about 10^36.16', () => {
    expect(searchSpaceSizeLog10(19, FS)).toBeCloseTo(19 * Math.log10(80), 12);
    expect(searchSpaceSizeLog10(19, FS)).toBeCloseTo(36.159, 3);
  });
});

describe('decoding alpha', () => {
  /** Logits for one layer, [6][4], from rows written as [3x3, 5x5, 7x7, skip]. */
  const layer = [
    [5, 0, 0, 9], // sub-block 0: skip is the argmax but below minExpansion
    [0, 4, 0, 0],
    [-10, 0, -10, 1], // log p: skip -0.3133, 5x5 -1.3133
    [-10, -10, 3, 0], // log p: 7x7 -0.0486, skip -3.0486
    [0, 0, 0, 10],
    [0, 0, 0, 10],
  ];

  it('with forcedSampling picks the expansion of highest joint log-probability', () => {
    // Joint log p over sub-blocks 2 and 3 (0, 1 kept and 4, 5 skipped in every case):
    // e=2: -0.3133 - 3.0486 = -3.362; e=3: -1.3133 - 3.0486 = -4.362;
    // e=4: -1.3133 - 0.0486 = -1.362 (best). e=5, 6 pay about -10 for keeping 4, 5.
    const arch = decodeAlpha([layer], FS);
    expect(arch.layers[0]).toEqual(['3x3', '5x5', '5x5', '7x7', 'skip', 'skip']);
  });

  it('without forcedSampling takes the argmax per sub-block, no skip below minExpansion', () => {
    const arch = decodeAlpha([layer], FREE);
    expect(arch.layers[0]).toEqual(['3x3', '5x5', 'skip', '7x7', 'skip', 'skip']);
  });

  it('accepts flat Float32Array data of shape [L, 6, 4] and refuses other lengths', () => {
    const flat = new Float32Array(layer.flat());
    expect(decodeAlpha(flat, FS)).toEqual(decodeAlpha([layer], FS));
    expect(() => decodeAlpha(new Float32Array(25), FS)).toThrow(/multiple of 24/);
  });

  it('a one-hot encoded architecture decodes back to itself', () => {
    const rng = new Rng(11);
    for (const options of [FS, FREE]) {
      for (let i = 0; i < 20; i++) {
        const arch = randomArchitecture(cifar, options, rng);
        expect(decodeAlpha(priorToTensorData(arch), options)).toEqual(arch);
      }
    }
  });

  it('1,000 random alphas always decode to valid architectures, with and without FS', () => {
    const rng = new Rng(2024);
    const size = cifar.layers.length * 24;
    for (const options of [FS, FREE]) {
      for (let i = 0; i < 1000; i++) {
        const scale = 0.1 + 5 * rng.next();
        const alpha = Float32Array.from({ length: size }, () => scale * rng.normal());
        validateArchitecture(decodeAlpha(alpha, options), cifar, options);
      }
    }
  });

  it('skipMask marks exactly the skip entries of sub-blocks below minExpansion', () => {
    const mask = skipMask(3, { forcedSampling: true, minExpansion: 2 });
    expect(mask).toHaveLength(3 * 24);
    const marked = [...mask.keys()].filter((i) => mask[i] === 1);
    // Entry (l, s, op) sits at l*24 + s*4 + op; skip is op 3, sub-blocks 0 and 1.
    expect(marked).toEqual([3, 7, 27, 31, 51, 55]);
    expect(mask.reduce((a, b) => a + b, 0)).toBe(6);
  });
});

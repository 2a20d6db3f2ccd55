/**
 * Writes the Fashion-MNIST sample bundled in resources/fashion-mnist-sample: a
 * seeded, class-balanced draw of 6,000 images (600 per class) from the official
 * training file and 1,000 (100 per class) from the official test file, as gzip IDX
 * files under the standard names. Images keep their original relative order.
 *
 * Usage: npx tsx scripts/make-fmnist-sample.ts [--src DIR] [--out DIR] [--seed N]
 * (defaults: Debian's /usr/share/datasets/fashion-mnist, the bundled folder, 2020).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';

import {
  DEBIAN_FASHION_MNIST_DIR,
  FASHION_MNIST_CLASSES,
  FASHION_MNIST_NORMALIZATION,
  MNIST_FILES,
  encodeIdx,
  findMnistFile,
  loadIdxPair,
  subsetBalanced,
  type ImageSet,
} from '../main/engine/data/index.js';

export const SAMPLE_SEED = 2020;
export const SAMPLE_TRAIN_COUNT = 6000;
export const SAMPLE_TEST_COUNT = 1000;

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DEFAULT_OUT = join(REPO_ROOT, 'resources', 'fashion-mnist-sample');

/** The four uncompressed IDX files of a sample, keyed by their standard file names. */
export type SampleFiles = Record<string, Uint8Array>;

function loadOfficial(srcDir: string, images: 'train' | 't10k'): ImageSet {
  const remedy = 'install dataset-fashion-mnist or pass --src DIR';
  const roles = images === 'train'
    ? (['trainImages', 'trainLabels'] as const)
    : (['testImages', 'testLabels'] as const);
  return loadIdxPair(
    findMnistFile(srcDir, roles[0], remedy),
    findMnistFile(srcDir, roles[1], remedy),
    {
      name: 'fashion-mnist',
      classes: FASHION_MNIST_CLASSES.length,
      classNames: [...FASHION_MNIST_CLASSES],
      normalization: {
        mean: [...FASHION_MNIST_NORMALIZATION.mean],
        std: [...FASHION_MNIST_NORMALIZATION.std],
      },
      remedy,
    },
  );
}

function encodeSet(set: ImageSet, imagesName: string, labelsName: string): SampleFiles {
  return {
    [imagesName]: encodeIdx([set.count, set.height, set.width], set.images),
    [labelsName]: encodeIdx([set.count], set.labels),
  };
}

/**
 * Draws the sample from the official files in `srcDir` and returns the four IDX
 * files, uncompressed. Deterministic: the same files and seed give the same bytes.
 */
export function makeFashionMnistSample(srcDir: string, seed = SAMPLE_SEED): SampleFiles {
  const train = subsetBalanced(loadOfficial(srcDir, 'train'), SAMPLE_TRAIN_COUNT, seed);
  const test = subsetBalanced(loadOfficial(srcDir, 't10k'), SAMPLE_TEST_COUNT, seed);
  return {
    ...encodeSet(train, MNIST_FILES.trainImages, MNIST_FILES.trainLabels),
    ...encodeSet(test, MNIST_FILES.testImages, MNIST_FILES.testLabels),
  };
}

function argValue(args: string[], flag: string): string | undefined {
  const at = args.indexOf(flag);
  return at >= 0 ? args[at + 1] : undefined;
}

function main(args: string[]): void {
  const srcDir = argValue(args, '--src') ?? DEBIAN_FASHION_MNIST_DIR;
  const outDir = argValue(args, '--out') ?? DEFAULT_OUT;
  const seed = Number(argValue(args, '--seed') ?? SAMPLE_SEED);
  if (!Number.isInteger(seed)) throw new RangeError(`--seed must be an integer, got ${seed}`);

  const files = makeFashionMnistSample(srcDir, seed);

  mkdirSync(outDir, { recursive: true });
  for (const [name, bytes] of Object.entries(files)) {
    const gz = gzipSync(bytes, { level: 9 });
    writeFileSync(join(outDir, `${name}.gz`), gz);
    console.log(`wrote ${join(outDir, name)}.gz: ${bytes.length} bytes, ${gz.length} gzipped`);
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2));
}

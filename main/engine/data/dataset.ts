/**
 * Finds and loads the dataset a run trains on: the `--data DIR` option first, then
 * Debian's full Fashion-MNIST, then the sample bundled with the workbench.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { CIFAR10_TEST_FILE, CIFAR10_TRAIN_FILES, loadCifar10Dir } from './cifar.js';
import { loadIdxPair } from './idx.js';
import {
  DatasetError,
  FASHION_MNIST_CLASSES,
  FASHION_MNIST_NORMALIZATION,
  type ImageSet,
  type Normalization,
} from './imageSet.js';

export type DatasetFormat = 'mnist' | 'cifar10';

/** Where the data came from: the --data option, the Debian package, or the sample. */
export type DatasetSource = 'option' | 'debian' | 'bundled';

export interface LoadDatasetOptions {
  /** The `--data DIR` option: a directory of MNIST-format or CIFAR-10 binary files. */
  dir?: string;
  /** Skips detection by file names. */
  format?: DatasetFormat;
  /** Where Debian's package lives; overridable for tests. */
  debianDir?: string;
  /** Where the bundled sample lives; found from the repository root by default. */
  bundledDir?: string;
}

export interface LoadedDataset {
  train: ImageSet;
  test: ImageSet;
  source: DatasetSource;
  /** The directory the files were read from. */
  dir: string;
  format: DatasetFormat;
}

/** Where `apt-get install dataset-fashion-mnist` puts the full dataset. */
export const DEBIAN_FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

/** The bundled sample's folder, relative to the repository root. */
export const BUNDLED_SAMPLE_PATH = join('resources', 'fashion-mnist-sample');

/** The standard IDX file names of the MNIST family, without the optional ".gz". */
export const MNIST_FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;

type MnistRole = keyof typeof MNIST_FILES;

const REMEDY = {
  debian:
    're-install the package (apt-get install --reinstall dataset-fashion-mnist) ' +
    'or pass --data DIR',
  bundled:
    'restore resources/fashion-mnist-sample from the repository (or re-run ' +
    'scripts/make-fmnist-sample.ts), or install dataset-fashion-mnist',
  option: 'check the --data directory, or download the dataset again',
};

/**
 * Loads a train and a test set, from the first source that exists:
 * `opts.dir` (format detected from the file names unless `opts.format` is given),
 * Debian's Fashion-MNIST in /usr/share/datasets/fashion-mnist, or the sample in
 * resources/fashion-mnist-sample (6,000 train, 1,000 test images).
 *
 * @example
 * const { train, test, source } = loadDataset({ dir: args.data });
 * @throws DatasetError when the chosen directory lacks an expected file (the message
 *   names it) or a file is malformed.
 */
export function loadDataset(opts: LoadDatasetOptions = {}): LoadedDataset {
  if (opts.dir !== undefined) return loadFromOption(resolve(opts.dir), opts.format);

  if (opts.format === 'cifar10') {
    throw new DatasetError(
      '',
      'format cifar10 has no default data: pass --data DIR pointing at the extracted ' +
        'cifar-10-batches-bin folder (data_batch_1.bin ... test_batch.bin)',
    );
  }

  const debianDir = opts.debianDir ?? DEBIAN_FASHION_MNIST_DIR;
  if (existsSync(debianDir)) {
    const sets = loadFashionMnist(debianDir, 'fashion-mnist', REMEDY.debian);
    return { ...sets, source: 'debian', dir: debianDir, format: 'mnist' };
  }

  const bundledDir = opts.bundledDir ?? findBundledSampleDir();
  const sets = loadFashionMnist(bundledDir, 'fashion-mnist-sample', REMEDY.bundled);
  return { ...sets, source: 'bundled', dir: bundledDir, format: 'mnist' };
}

function loadFromOption(dir: string, format?: DatasetFormat): LoadedDataset {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new DatasetError(
      dir,
      `data directory ${dir} does not exist or is not a directory; pass --data a folder ` +
        `holding ${MNIST_FILES.trainImages}.gz and the other MNIST-format files, or ` +
        `CIFAR-10's ${CIFAR10_TRAIN_FILES[0]} ... ${CIFAR10_TEST_FILE}`,
    );
  }

  const detected = format ?? detectFormat(dir);
  if (detected === 'cifar10') {
    const cifarDir = cifarBatchDir(dir);
    const sets = loadCifar10Dir(cifarDir, REMEDY.option);
    return { ...sets, source: 'option', dir: cifarDir, format: 'cifar10' };
  }

  const sets = loadUserMnist(dir);
  return { ...sets, source: 'option', dir, format: 'mnist' };
}

/**
 * Decides a directory's format from its file names: MNIST-format IDX files, or
 * CIFAR-10 binary batches (directly or in a cifar-10-batches-bin subfolder).
 *
 * @throws DatasetError listing the expected names and what the directory holds.
 */
export function detectFormat(dir: string): DatasetFormat {
  const names = new Set(readdirSync(dir));
  const mnistNames = Object.values(MNIST_FILES).flatMap(mnistNameVariants);
  if (mnistNames.some((name) => names.has(name))) return 'mnist';

  const cifarNames = [...CIFAR10_TRAIN_FILES, CIFAR10_TEST_FILE];
  if (cifarNames.some((name) => existsSync(join(cifarBatchDir(dir), name)))) return 'cifar10';

  const seen = [...names].slice(0, 8).join(', ') || 'nothing';
  throw new DatasetError(
    dir,
    `cannot tell the dataset format of ${dir}: expected MNIST-format files ` +
      `(${MNIST_FILES.trainImages}.gz, ${MNIST_FILES.trainLabels}.gz, ` +
      `${MNIST_FILES.testImages}.gz, ${MNIST_FILES.testLabels}.gz) or CIFAR-10 binary ` +
      `batches (${CIFAR10_TRAIN_FILES.join(', ')}, ${CIFAR10_TEST_FILE}), but it holds ` +
      `${seen}; point --data at the folder that holds those files`,
  );
}

function cifarBatchDir(dir: string): string {
  const nested = join(dir, 'cifar-10-batches-bin');
  return existsSync(nested) ? nested : dir;
}

/** Accepted spellings of one IDX file name: dashes or the dot mirrors use, gz or not. */
function mnistNameVariants(name: string): string[] {
  const dotted = name.replace(/-(idx\d)/, '.$1');
  return [`${name}.gz`, name, `${dotted}.gz`, dotted];
}

/**
 * The path of one of the four MNIST-format files in `dir`, in whichever accepted
 * spelling exists.
 *
 * @throws DatasetError naming the expected file when none exists.
 */
export function findMnistFile(dir: string, role: MnistRole, remedy: string): string {
  const variants = mnistNameVariants(MNIST_FILES[role]);
  const found = variants.find((name) => existsSync(join(dir, name)));
  if (found !== undefined) return join(dir, found);

  throw new DatasetError(
    join(dir, variants[0]),
    `expected ${join(dir, variants[0])} (or ${variants.slice(1).join(', ')}) but it does ` +
      `not exist; ${remedy}`,
  );
}

function loadMnistDir(
  dir: string,
  info: { name: string; classNames: string[]; normalization?: Normalization; remedy: string },
): { train: ImageSet; test: ImageSet } {
  const file = (role: MnistRole) => findMnistFile(dir, role, info.remedy);
  const paths = {
    trainImages: file('trainImages'),
    trainLabels: file('trainLabels'),
    testImages: file('testImages'),
    testLabels: file('testLabels'),
  };
  const idxInfo = {
    name: info.name,
    classes: info.classNames.length,
    classNames: info.classNames,
    normalization: info.normalization ?? { mean: [0], std: [1] },
    remedy: info.remedy,
  };

  const train = loadIdxPair(paths.trainImages, paths.trainLabels, idxInfo);
  const test = loadIdxPair(paths.testImages, paths.testLabels, idxInfo);
  checkSameShape(train, test, paths.testImages, info.remedy);

  if (info.normalization === undefined) {
    const normalization = measureNormalization(train);
    return { train: { ...train, normalization }, test: { ...test, normalization } };
  }
  return { train, test };
}

function checkSameShape(train: ImageSet, test: ImageSet, testFile: string, remedy: string) {
  if (train.height !== test.height || train.width !== test.width) {
    throw new DatasetError(
      testFile,
      `${testFile} holds ${test.height}x${test.width} images but the training images are ` +
        `${train.height}x${train.width}; both must come from the same dataset: ${remedy}`,
    );
  }
}

function loadFashionMnist(
  dir: string,
  name: string,
  remedy: string,
): { train: ImageSet; test: ImageSet } {
  return loadMnistDir(dir, {
    name,
    classNames: [...FASHION_MNIST_CLASSES],
    normalization: {
      mean: [...FASHION_MNIST_NORMALIZATION.mean],
      std: [...FASHION_MNIST_NORMALIZATION.std],
    },
    remedy,
  });
}

/**
 * A user's MNIST-format folder may hold digits, fashion or letters, whose pixel
 * statistics differ (MNIST's mean is 0.1307, Fashion-MNIST's 0.2860), so they are
 * measured on its training images rather than assumed.
 */
function loadUserMnist(dir: string): { train: ImageSet; test: ImageSet } {
  const name = basename(dir);
  const isFashion = /fashion/i.test(name);
  const classNames = isFashion
    ? [...FASHION_MNIST_CLASSES]
    : Array.from({ length: 10 }, (_, i) => String(i));
  return loadMnistDir(dir, { name, classNames, remedy: REMEDY.option });
}

/**
 * Per-channel mean and standard deviation of a set's pixels scaled to [0, 1].
 */
export function measureNormalization(set: ImageSet): Normalization {
  const c = set.channels;
  const sum = new Float64Array(c);
  const sumSq = new Float64Array(c);
  for (let i = 0; i < set.images.length; i++) {
    const v = set.images[i];
    sum[i % c] += v;
    sumSq[i % c] += v * v;
  }

  const perChannel = set.images.length / c;
  const mean = Array.from(sum, (s) => s / perChannel / 255);
  const std = Array.from(sumSq, (s, ch) => {
    const variance = s / perChannel / 255 ** 2 - mean[ch] ** 2;
    return Math.sqrt(Math.max(variance, 1e-12));
  });
  return { mean, std };
}

/**
 * The bundled Fashion-MNIST sample's folder, found by walking up from this module
 * to the folder that holds resources/fashion-mnist-sample, so it works from the
 * sources (tsx, vitest) and from a bundle in out/. A packaged Electron app looks in
 * its resources path too.
 *
 * @throws DatasetError listing the folders searched when none holds the sample.
 */
export function findBundledSampleDir(): string {
  const candidates: string[] = [];
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    candidates.push(join(dir, BUNDLED_SAMPLE_PATH));
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }

  const resourcesPath = (process as { resourcesPath?: string }).resourcesPath;
  if (resourcesPath !== undefined) {
    candidates.push(
      join(resourcesPath, 'fashion-mnist-sample'),
      join(resourcesPath, BUNDLED_SAMPLE_PATH),
    );
  }

  const marker = `${MNIST_FILES.trainImages}.gz`;
  const found = candidates.find((candidate) => existsSync(join(candidate, marker)));
  if (found !== undefined) return found;

  throw new DatasetError(
    BUNDLED_SAMPLE_PATH,
    `no dataset found: ${DEBIAN_FASHION_MNIST_DIR} is absent and the bundled sample ` +
      `(${marker}) is in none of ${candidates.join(', ')}; pass --data DIR, install ` +
      'dataset-fashion-mnist, or restore resources/fashion-mnist-sample',
  );
}

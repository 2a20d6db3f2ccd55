import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';

import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  BatchSampler,
  CIFAR10_NORMALIZATION,
  DEBIAN_FASHION_MNIST_DIR,
  DatasetError,
  type ImageSet,
  MNIST_FILES,
  batchArrays,
  classHistogram,
  encodeIdx,
  findBundledSampleDir,
  loadDataset,
  loadIdxPair,
  measureNormalization,
  readCifarBatch,
  readIdxImages,
  readIdxLabels,
  splitValidation,
  subsetBalanced,
  toBatch,
} from '../main/engine/data/index.js';
import { makeFashionMnistSample } from '../scripts/make-fmnist-sample.js';

const NO_DIR = join(tmpdir(), 'sgnas-no-such-dataset-dir');
const HAS_DEBIAN = existsSync(DEBIAN_FASHION_MNIST_DIR);

let scratch: string;
let sample: { train: ImageSet; test: ImageSet; source: string };

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'sgnas-data-test-'));
  // Pointing the Debian lookup at a missing folder forces the bundled sample.
  sample = loadDataset({ debianDir: NO_DIR });
});

afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

/** A fresh folder under the scratch directory. */
function folder(name: string): string {
  const dir = join(scratch, name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

function writeIdx(dir: string, name: string, dims: number[], data: Uint8Array, gz = true) {
  const file = join(dir, name);
  const bytes = encodeIdx(dims, data);
  writeFileSync(file, gz ? gzipSync(bytes) : bytes);
  return file;
}

/** A tiny MNIST-format set: image i has every pixel i, label i % 10. */
function writeTinyMnist(dir: string, prefix: 'train' | 't10k', count: number) {
  const images = new Uint8Array(count * 4 * 4).map((_, p) => Math.floor(p / 16));
  const labels = Uint8Array.from({ length: count }, (_, i) => i % 10);
  writeIdx(dir, `${prefix}-images-idx3-ubyte.gz`, [count, 4, 4], images);
  writeIdx(dir, `${prefix}-labels-idx1-ubyte.gz`, [count], labels);
}

function expectDatasetError(run: () => unknown, ...fragments: string[]): void {
  let caught: unknown;
  try {
    run();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(DatasetError);
  for (const fragment of fragments) expect((caught as Error).message).toContain(fragment);
}

describe('the bundled Fashion-MNIST sample', () => {
  it('is what loadDataset falls back to without --data or the Debian package', () => {
    expect(sample.source).toBe('bundled');
    expect(findBundledSampleDir()).toMatch(/resources[/\\]fashion-mnist-sample$/);
  });

  it('holds 6,000 training and 1,000 test images of 28x28x1 in 10 classes', () => {
    for (const [set, count] of [[sample.train, 6000], [sample.test, 1000]] as const) {
      expect(set.count).toBe(count);
      expect([set.height, set.width, set.channels, set.classes]).toEqual([28, 28, 1, 10]);
      expect(set.images.length).toBe(count * 28 * 28);
      expect(set.labels.length).toBe(count);
    }
  });

  it('has exactly 600 training and 100 test images of every class', () => {
    expect(classHistogram(sample.train)).toEqual(new Array(10).fill(600));
    expect(classHistogram(sample.test)).toEqual(new Array(10).fill(100));
  });

  it('has the pixel statistics of Fashion-MNIST, so its normalisation constants fit', () => {
    // Full training set: mean 0.2860, std 0.3530. A sample of 6,000 real
    // images lands within a few thousandths; MNIST digits (0.1307) would not.
    const { mean, std } = measureNormalization(sample.train);
    expect(Math.abs(mean[0] - 0.286)).toBeLessThan(0.003);
    expect(Math.abs(std[0] - 0.353)).toBeLessThan(0.003);
    expect(sample.train.normalization).toEqual({ mean: [0.286], std: [0.353] });
  });

  it('has the pixel sums measured when the sample was made', () => {
    const sum = (bytes: Uint8Array) => bytes.reduce((a, b) => a + b, 0);
    expect(sum(sample.train.images)).toBe(343_776_885);
    expect(sum(sample.test.images)).toBe(56_519_150);
  });

  it.runIf(HAS_DEBIAN)('is exactly what make-fmnist-sample draws from the Debian files', () => {
    const regenerated = makeFashionMnistSample(DEBIAN_FASHION_MNIST_DIR);
    const dir = findBundledSampleDir();

    expect(Object.keys(regenerated).sort()).toEqual(Object.values(MNIST_FILES).sort());
    for (const [name, bytes] of Object.entries(regenerated)) {
      const bundled = gunzipSync(readFileSync(join(dir, `${name}.gz`)));
      expect(Buffer.compare(bundled, bytes), name).toBe(0);
    }
  });
});

describe('loadDataset', () => {
  it.runIf(HAS_DEBIAN)("prefers Debian's full Fashion-MNIST over the sample", () => {
    const full = loadDataset({});
    expect(full.source).toBe('debian');
    expect(full.dir).toBe(DEBIAN_FASHION_MNIST_DIR);
    expect([full.train.count, full.test.count]).toEqual([60000, 10000]);
    expect(classHistogram(full.train)).toEqual(new Array(10).fill(6000));
  });

  it('reads a --data folder of MNIST-format files and measures its statistics', () => {
    const dir = folder('tiny-mnist');
    writeTinyMnist(dir, 'train', 20);
    writeTinyMnist(dir, 't10k', 10);

    const data = loadDataset({ dir });
    expect(data.source).toBe('option');
    expect(data.format).toBe('mnist');
    expect([data.train.count, data.test.count, data.train.height]).toEqual([20, 10, 4]);
    // Pixels 0..19 equally often: mean 9.5 / 255.
    expect(data.train.normalization.mean[0]).toBeCloseTo(9.5 / 255, 10);
  });

  it('names the expected file when a --data folder lacks one', () => {
    const dir = folder('no-test-files');
    writeTinyMnist(dir, 'train', 10);
    expectDatasetError(() => loadDataset({ dir }), 't10k-images-idx3-ubyte.gz', 'does not exist');
  });

  it('says a missing --data folder does not exist', () => {
    expectDatasetError(() => loadDataset({ dir: NO_DIR }), NO_DIR, 'does not exist');
  });

  it('lists the expected names when a --data folder holds neither format', () => {
    const dir = folder('unrelated');
    writeFileSync(join(dir, 'notes.txt'), 'hello');
    expectDatasetError(
      () => loadDataset({ dir }),
      'cannot tell the dataset format',
      'train-images-idx3-ubyte.gz',
      'data_batch_1.bin',
      'notes.txt',
    );
  });

  it('tells a user with a broken Debian copy to re-install the package', () => {
    const dir = folder('broken-debian');
    writeTinyMnist(dir, 'train', 10);
    writeTinyMnist(dir, 't10k', 10);
    const file = join(dir, 't10k-labels-idx1-ubyte.gz');
    const gz = readFileSync(file);
    writeFileSync(file, gz.subarray(0, gz.length - 6));

    expectDatasetError(
      () => loadDataset({ debianDir: dir }),
      file,
      'apt-get install --reinstall dataset-fashion-mnist',
    );
  });
});

describe('the IDX reader', () => {
  const pixels = (n: number) => new Uint8Array(n * 28 * 28).map((_, i) => i % 251);

  it('reads plain and gzip files to the same values', () => {
    const dir = folder('idx-plain-gz');
    const data = pixels(3);
    const gz = readIdxImages(writeIdx(dir, 'a.gz', [3, 28, 28], data, true));
    const plain = readIdxImages(writeIdx(dir, 'a', [3, 28, 28], data, false));

    expect([gz.count, gz.height, gz.width]).toEqual([3, 28, 28]);
    expect(Array.from(gz.images)).toEqual(Array.from(data));
    expect(Array.from(plain.images)).toEqual(Array.from(data));
  });

  it('rejects a file whose magic number is not 00 00', () => {
    const dir = folder('idx-magic');
    const bytes = encodeIdx([2, 28, 28], pixels(2));
    bytes.set([0x50, 0x4b], 0);
    const file = join(dir, 'zip-not-idx');
    writeFileSync(file, bytes);
    expectDatasetError(() => readIdxImages(file), file, 'is not an IDX file', '50 4b 08 03');
  });

  it('rejects values that are not unsigned bytes', () => {
    const dir = folder('idx-type');
    const bytes = encodeIdx([2, 28, 28], pixels(2));
    bytes[2] = 0x0d;
    const file = join(dir, 'float-idx');
    writeFileSync(file, bytes);
    expectDatasetError(() => readIdxImages(file), file, 'stores float32 values');
  });

  it('rejects a label file given where images are expected (wrong ndims)', () => {
    const dir = folder('idx-ndims');
    const file = writeIdx(dir, 'labels.gz', [5], new Uint8Array(5));
    expectDatasetError(
      () => readIdxImages(file),
      file,
      'has 1 dimensions but an image file (count, rows, columns) needs 3',
    );
  });

  it('reports a truncated payload with the sizes the header promised', () => {
    const dir = folder('idx-truncated');
    const full = encodeIdx([5, 28, 28], pixels(5));
    const file = join(dir, 'short.gz');
    writeFileSync(file, gzipSync(full.subarray(0, 16 + 1234)));
    expectDatasetError(
      () => readIdxImages(file, 're-install dataset-fashion-mnist'),
      `${file} is truncated: header says 5 images of 28x28 = 3920 bytes but only 1234 follow`,
      're-install dataset-fashion-mnist',
    );
  });

  it('reports bytes beyond the payload', () => {
    const dir = folder('idx-long');
    const file = join(dir, 'long');
    const bytes = encodeIdx([3], Uint8Array.of(1, 2, 3));
    writeFileSync(file, Buffer.concat([bytes, Buffer.from([9, 9])]));
    expectDatasetError(() => readIdxLabels(file, 10), file, 'has 2 bytes after its payload');
  });

  it('reports a gzip stream that is cut short, naming the file', () => {
    const dir = folder('idx-gzip-cut');
    const gz = gzipSync(encodeIdx([4, 28, 28], pixels(4)));
    const file = join(dir, 'cut.gz');
    writeFileSync(file, gz.subarray(0, Math.floor(gz.length / 2)));
    expectDatasetError(() => readIdxImages(file), file, 'is a truncated gzip stream');
  });

  it('rejects a label that is not below the class count', () => {
    const dir = folder('idx-label-range');
    const file = writeIdx(dir, 'labels.gz', [4], Uint8Array.of(0, 9, 12, 3));
    expectDatasetError(() => readIdxLabels(file, 10), file, 'has label 12 at record 2');
  });

  it('rejects image and label files that disagree on the count', () => {
    const dir = folder('idx-mismatch');
    const images = writeIdx(dir, 'images.gz', [4, 28, 28], pixels(4));
    const labels = writeIdx(dir, 'labels.gz', [3], Uint8Array.of(1, 2, 3));
    const info = {
      name: 'x', classes: 10, classNames: [], normalization: { mean: [0], std: [1] },
    };
    expectDatasetError(
      () => loadIdxPair(images, labels, info),
      `${images} holds 4 images but ${labels} holds 3 labels`,
    );
  });
});

describe('the CIFAR-10 reader', () => {
  /** Pixel value of record r, channel c, row y, column x in the files written here. */
  const pixel = (r: number, c: number, y: number, x: number) =>
    (r * 31 + c * 80 + y * 7 + x) % 256;

  /** Writes records the way the binary distribution stores them: label, then CHW. */
  function writeCifar(file: string, labels: number[], firstRecord = 0): void {
    const bytes = new Uint8Array(labels.length * 3073);
    labels.forEach((label, i) => {
      const r = firstRecord + i;
      bytes[i * 3073] = label;
      for (let c = 0; c < 3; c++) {
        for (let y = 0; y < 32; y++) {
          for (let x = 0; x < 32; x++) {
            bytes[i * 3073 + 1 + c * 1024 + y * 32 + x] = pixel(r, c, y, x);
          }
        }
      }
    });
    writeFileSync(file, bytes);
  }

  it('reads records back with labels intact and pixels moved from CHW to HWC', () => {
    const file = join(folder('cifar-one'), 'data_batch_1.bin');
    writeCifar(file, [3, 9, 0]);
    const records = readCifarBatch(file);

    expect(records.count).toBe(3);
    expect(Array.from(records.labels)).toEqual([3, 9, 0]);
    for (const [r, y, x] of [[0, 0, 0], [1, 5, 17], [2, 31, 31]]) {
      for (let c = 0; c < 3; c++) {
        expect(records.images[r * 3072 + (y * 32 + x) * 3 + c]).toBe(pixel(r, c, y, x));
      }
    }
  });

  it('loads a --data folder of the six batch files as CIFAR-10', () => {
    const dir = folder('cifar-full/cifar-10-batches-bin');
    for (let b = 1; b <= 5; b++) {
      writeCifar(join(dir, `data_batch_${b}.bin`), [b, b + 1], 2 * (b - 1));
    }
    writeCifar(join(dir, 'test_batch.bin'), [7], 100);

    // The parent folder is given: the nested batches folder is found by name.
    const data = loadDataset({ dir: join(scratch, 'cifar-full') });
    expect(data.format).toBe('cifar10');
    expect(data.dir).toBe(dir);
    expect([data.train.count, data.test.count, data.train.channels]).toEqual([10, 1, 3]);
    expect(Array.from(data.train.labels)).toEqual([1, 2, 2, 3, 3, 4, 4, 5, 5, 6]);
    expect(data.train.normalization).toEqual(CIFAR10_NORMALIZATION);
    // Training image 4 is the first record of data_batch_3, written as r = 4.
    expect(data.train.images[4 * 3072 + (2 * 32 + 3) * 3 + 1]).toBe(pixel(4, 1, 2, 3));
  });

  it('rejects a file that is not a whole number of records', () => {
    const file = join(folder('cifar-cut'), 'data_batch_1.bin');
    writeCifar(file, [1, 2]);
    writeFileSync(file, readFileSync(file).subarray(0, 3073 + 100));
    expectDatasetError(
      () => readCifarBatch(file),
      file,
      '3173 bytes is not a whole, non-zero number of 3073-byte records',
    );
  });

  it('rejects a label outside CIFAR-10s ten classes', () => {
    const file = join(folder('cifar-label'), 'test_batch.bin');
    writeCifar(file, [1, 10]);
    expectDatasetError(() => readCifarBatch(file), file, 'has label 10 at record 1');
  });
});

describe('splitValidation', () => {
  it('holds out exactly perClass images of every class, disjoint from training', () => {
    const split = splitValidation(sample.train, 50, 1);

    expect(classHistogram(split.validation)).toEqual(new Array(10).fill(50));
    expect(classHistogram(split.train)).toEqual(new Array(10).fill(550));
    const all = [...split.trainIndices, ...split.validationIndices].sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: 6000 }, (_, i) => i));
  });

  it('copies the images the indices name', () => {
    const split = splitValidation(sample.train, 10, 3);
    const size = 28 * 28;
    const k = 37;
    const source = split.validationIndices[k];

    expect(split.validation.labels[k]).toBe(sample.train.labels[source]);
    expect(Array.from(split.validation.images.subarray(k * size, (k + 1) * size))).toEqual(
      Array.from(sample.train.images.subarray(source * size, (source + 1) * size)),
    );
  });

  it('gives the same split for the same seed and another for another seed', () => {
    const a = splitValidation(sample.train, 20, 7).validationIndices;
    const b = splitValidation(sample.train, 20, 7).validationIndices;
    const c = splitValidation(sample.train, 20, 8).validationIndices;

    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
  });

  it('refuses a class that would keep no training image', () => {
    expect(() => splitValidation(sample.test, 100, 1)).toThrow(
      /class 0 \(T-shirt\/top\) has only 100 training images/,
    );
  });
});

describe('subsetBalanced', () => {
  it('takes count / classes images of each class in the original order', () => {
    const subset = subsetBalanced(sample.train, 2000, 5);
    expect(classHistogram(subset)).toEqual(new Array(10).fill(200));

    const again = subsetBalanced(sample.train, 2000, 5);
    expect(Buffer.compare(subset.images, again.images)).toBe(0);
  });

  it('gives the remainder to the lowest classes', () => {
    expect(classHistogram(subsetBalanced(sample.test, 25, 5))).toEqual(
      [3, 3, 3, 3, 3, 2, 2, 2, 2, 2],
    );
  });

  it('refuses more images of a class than the set has', () => {
    expect(() => subsetBalanced(sample.test, 1010, 1)).toThrow(/needs 101 but has only 100/);
  });
});

describe('BatchSampler', () => {
  it('visits every image once per epoch when the batch size divides the count', () => {
    const sampler = new BatchSampler(100, 10, 42);
    const seen = new Set<number>();
    for (let b = 0; b < sampler.batchesPerEpoch; b++) {
      const batch = sampler.next();
      expect(batch.epoch).toBe(0);
      batch.indices.forEach((i) => seen.add(i));
    }
    expect(seen.size).toBe(100);
  });

  it('drops the short last batch and reshuffles each epoch', () => {
    const sampler = new BatchSampler(105, 10, 42);
    const epochs: number[][] = [[], []];
    for (let b = 0; b < 20; b++) {
      const batch = sampler.next();
      expect(batch.indices.length).toBe(10);
      expect(batch.lastInEpoch).toBe(batch.batchInEpoch === 9);
      epochs[batch.epoch].push(...batch.indices);
    }

    expect(new Set(epochs[0]).size).toBe(100);
    expect(epochs[0]).not.toEqual(epochs[1]);
    expect(sampler.epoch).toBe(2);
  });

  it('continues with the same batches after a state round trip through JSON', () => {
    const original = new BatchSampler(1000, 64, 9);
    for (let b = 0; b < 20; b++) original.next();
    const saved = JSON.parse(JSON.stringify(original.getState()));

    // Constructed with another seed: the restored state must win.
    const resumed = new BatchSampler(1000, 64, 12345);
    resumed.setState(saved);
    for (let b = 0; b < 40; b++) {
      const [x, y] = [original.next(), resumed.next()];
      expect(Array.from(y.indices)).toEqual(Array.from(x.indices));
      expect([y.epoch, y.batchInEpoch]).toEqual([x.epoch, x.batchInEpoch]);
    }
  });

  it('refuses a state saved with another batch size', () => {
    const state = new BatchSampler(1000, 64, 9).getState();
    expect(() => new BatchSampler(1000, 32, 9).setState(state)).toThrow(/batches of 64/);
  });
});

describe('toBatch', () => {
  type Norm = ImageSet['normalization'];
  const tiny = (channels: number, bytes: number[], normalization: Norm): ImageSet => ({
    images: Uint8Array.from(bytes),
    labels: Uint8Array.of(4, 7),
    count: 2,
    height: 1,
    width: bytes.length / (2 * channels),
    channels,
    classes: 10,
    name: 'tiny',
    classNames: [],
    normalization,
  });

  it('normalises grey pixels with the Fashion-MNIST constants', () => {
    const set = tiny(1, [0, 255, 51, 128, 7, 200], { mean: [0.286], std: [0.353] });
    const { x, y } = toBatch(set, [1, 0]);

    expect(x.shape).toEqual([2, 1, 3, 1]);
    expect(x.dtype).toBe('float32');
    expect(y.dtype).toBe('int32');
    expect(Array.from(y.dataSync())).toEqual([7, 4]);
    // Image 1 first: bytes 128, 7, 200; then image 0: 0, 255, 51.
    // By hand: (0/255 - 0.286)/0.353 = -0.810198, (255/255 - 0.286)/0.353 = 2.022663,
    // (51/255 - 0.286)/0.353 = -0.243626.
    const values = x.dataSync();
    expect(values[3]).toBeCloseTo(-0.810198, 5);
    expect(values[4]).toBeCloseTo(2.022663, 5);
    expect(values[5]).toBeCloseTo(-0.243626, 5);
    expect(values[0]).toBeCloseTo((128 / 255 - 0.286) / 0.353, 6);
    x.dispose();
    y.dispose();
  });

  it('normalises each colour channel with its own CIFAR-10 constants', () => {
    const norm = { mean: [...CIFAR10_NORMALIZATION.mean], std: [...CIFAR10_NORMALIZATION.std] };
    const set = tiny(3, [255, 255, 255, 0, 0, 0], norm);
    const { x } = batchArrays(set, [0, 1]);

    // White: (1 - 0.4914)/0.247 = 2.059109, (1 - 0.4822)/0.2435 = 2.126489,
    // (1 - 0.4465)/0.2616 = 2.115826; black: -1.989474, -1.980287, -1.706804.
    const expected = [2.059109, 2.126489, 2.115826, -1.989474, -1.980287, -1.706804];
    expected.forEach((value, i) => expect(x[i]).toBeCloseTo(value, 5));
  });

  it('matches the formula on real images and leaves no tensor behind once disposed', () => {
    const before = tf.memory().numTensors;
    const indices = [5, 999, 4321];
    const { x, y } = toBatch(sample.train, indices);
    const values = x.dataSync();

    for (const [k, p] of [[0, 406], [1, 0], [2, 783]]) {
      const byte = sample.train.images[indices[k] * 784 + p];
      expect(values[k * 784 + p]).toBeCloseTo((byte / 255 - 0.286) / 0.353, 6);
    }
    x.dispose();
    y.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

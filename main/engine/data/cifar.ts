/**
 * Reader for the CIFAR-10 binary version (cifar-10-batches-bin): files of
 * fixed-size records, each one label byte followed by a 32x32 colour image stored
 * channel by channel (1024 red, 1024 green, 1024 blue bytes, rows in order).
 * The engine keeps images HWC, so records are transposed while reading.
 */
import { join } from 'node:path';

import { DEFAULT_REMEDY, checkLabels, readMaybeGzip } from './idx.js';
import {
  CIFAR10_CLASSES,
  CIFAR10_NORMALIZATION,
  DatasetError,
  type ImageSet,
} from './imageSet.js';

export const CIFAR_SIDE = 32;
export const CIFAR_CHANNELS = 3;
const PLANE = CIFAR_SIDE * CIFAR_SIDE;
const IMAGE_BYTES = PLANE * CIFAR_CHANNELS;

/** Bytes per record: 1 label + 32x32x3 pixels. */
export const CIFAR_RECORD_BYTES = 1 + IMAGE_BYTES;

/** The five training batches of the binary distribution, in order. */
export const CIFAR10_TRAIN_FILES: readonly string[] = [1, 2, 3, 4, 5].map(
  (i) => `data_batch_${i}.bin`,
);

/** The test batch of the binary distribution. */
export const CIFAR10_TEST_FILE = 'test_batch.bin';

/** The records of one CIFAR binary file, images already in HWC order. */
export interface CifarRecords {
  count: number;
  images: Uint8Array;
  labels: Uint8Array;
}

/**
 * Decodes CIFAR-10 binary records and transposes each image from CHW to HWC.
 *
 * @throws DatasetError when the byte count is not a positive whole number of
 *   records, or a label is not below 10.
 */
export function decodeCifarRecords(
  bytes: Uint8Array,
  file: string,
  remedy = DEFAULT_REMEDY,
): CifarRecords {
  if (bytes.length === 0 || bytes.length % CIFAR_RECORD_BYTES !== 0) {
    const whole = Math.floor(bytes.length / CIFAR_RECORD_BYTES);
    throw new DatasetError(
      file,
      `${file} is truncated or not a CIFAR-10 binary file: ${bytes.length} bytes is not ` +
        `a whole, non-zero number of ${CIFAR_RECORD_BYTES}-byte records (1 label + ` +
        `32x32x3 pixels); it holds ${whole} records and ${bytes.length % CIFAR_RECORD_BYTES}` +
        ` stray bytes: ${remedy}`,
    );
  }

  const count = bytes.length / CIFAR_RECORD_BYTES;
  const labels = new Uint8Array(count);
  const images = new Uint8Array(count * IMAGE_BYTES);
  for (let r = 0; r < count; r++) {
    const record = r * CIFAR_RECORD_BYTES;
    labels[r] = bytes[record];
    transposeChwToHwc(bytes, record + 1, images, r * IMAGE_BYTES);
  }

  checkLabels(labels, CIFAR10_CLASSES.length, file, remedy);
  return { count, images, labels };
}

function transposeChwToHwc(
  src: Uint8Array,
  srcOffset: number,
  dst: Uint8Array,
  dstOffset: number,
): void {
  for (let c = 0; c < CIFAR_CHANNELS; c++) {
    const plane = srcOffset + c * PLANE;
    for (let p = 0; p < PLANE; p++) dst[dstOffset + p * CIFAR_CHANNELS + c] = src[plane + p];
  }
}

/**
 * Reads one CIFAR-10 binary batch file (plain, or gzip-compressed).
 *
 * @throws DatasetError when the file is missing, truncated or holds a bad label.
 */
export function readCifarBatch(file: string, remedy = DEFAULT_REMEDY): CifarRecords {
  return decodeCifarRecords(readMaybeGzip(file, remedy), file, remedy);
}

/**
 * Reads CIFAR-10 batch files and concatenates them into one ImageSet.
 *
 * @throws DatasetError for the first file that is missing or malformed.
 */
export function loadCifarFiles(files: readonly string[], remedy = DEFAULT_REMEDY): ImageSet {
  const parts = files.map((file) => readCifarBatch(file, remedy));
  const count = parts.reduce((sum, part) => sum + part.count, 0);
  const images = new Uint8Array(count * IMAGE_BYTES);
  const labels = new Uint8Array(count);

  let offset = 0;
  for (const part of parts) {
    images.set(part.images, offset * IMAGE_BYTES);
    labels.set(part.labels, offset);
    offset += part.count;
  }

  return {
    images,
    labels,
    count,
    height: CIFAR_SIDE,
    width: CIFAR_SIDE,
    channels: CIFAR_CHANNELS,
    classes: CIFAR10_CLASSES.length,
    name: 'cifar10',
    classNames: [...CIFAR10_CLASSES],
    normalization: {
      mean: [...CIFAR10_NORMALIZATION.mean],
      std: [...CIFAR10_NORMALIZATION.std],
    },
  };
}

/**
 * Loads the CIFAR-10 training set (data_batch_1..5.bin) and test set
 * (test_batch.bin) from a directory of the binary distribution.
 *
 * @throws DatasetError naming the first expected file that is missing or bad.
 */
export function loadCifar10Dir(
  dir: string,
  remedy = DEFAULT_REMEDY,
): { train: ImageSet; test: ImageSet } {
  const train = loadCifarFiles(CIFAR10_TRAIN_FILES.map((f) => join(dir, f)), remedy);
  const test = loadCifarFiles([join(dir, CIFAR10_TEST_FILE)], remedy);
  return { train, test };
}

/**
 * Reader (and writer) for the IDX format of the MNIST family: MNIST, Fashion-MNIST,
 * KMNIST... A file is a 4-byte magic number (0x00 0x00, a type byte, the number of
 * dimensions), one big-endian uint32 per dimension, then the values in row-major
 * order. Files may be gzip-compressed, as they are distributed.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

import { DatasetError, type ImageSet, type Normalization } from './imageSet.js';

/** The only IDX value type the readers accept: unsigned byte. */
const IDX_UINT8 = 0x08;

const IDX_TYPE_NAMES: Record<number, string> = {
  0x08: 'unsigned byte',
  0x09: 'signed byte',
  0x0b: 'int16',
  0x0c: 'int32',
  0x0d: 'float32',
  0x0e: 'float64',
};

/** What to tell the user when a file is bad, unless the caller knows better. */
export const DEFAULT_REMEDY = 're-download the dataset';

/** A decoded IDX file: its dimension sizes and its values. */
export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

/** The images of an IDX image file (3 dimensions: count, rows, columns). */
export interface IdxImages {
  count: number;
  height: number;
  width: number;
  images: Uint8Array;
}

/** What an IDX pair does not say about itself, supplied by the caller. */
export interface IdxSetInfo {
  name: string;
  classes: number;
  classNames: string[];
  normalization: Normalization;
  /** Advice appended to error messages, e.g. how to re-install the files. */
  remedy?: string;
}

/** True when the bytes begin with the gzip magic number 1f 8b. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * Reads a file and gunzips it when it starts with the gzip magic number.
 *
 * @throws DatasetError when the file cannot be read or its gzip stream is cut
 *   short or corrupt.
 */
export function readMaybeGzip(file: string, remedy = DEFAULT_REMEDY): Uint8Array {
  let raw: Uint8Array;
  try {
    raw = readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? err})`;
    throw new DatasetError(file, `dataset file ${file} ${why}; ${remedy}`);
  }

  if (!isGzip(raw)) return raw;

  try {
    return gunzipSync(raw);
  } catch (err) {
    const zlibError = err as NodeJS.ErrnoException;
    const truncated = zlibError.code === 'Z_BUF_ERROR';
    const what = truncated ? 'is a truncated gzip stream' : 'is not a valid gzip stream';
    throw new DatasetError(
      file,
      `${file} ${what} (zlib: ${zlibError.message}, ${raw.length} compressed bytes); ` +
        `the download was probably cut short or damaged: ${remedy}`,
    );
  }
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');
}

/** Checks the 4-byte magic number and returns the header length in bytes. */
function checkMagic(bytes: Uint8Array, file: string, ndims: number, remedy: string): number {
  const expected = hex(Uint8Array.of(0, 0, IDX_UINT8, ndims));
  if (bytes.length < 4) {
    throw new DatasetError(
      file,
      `${file} is too short to be an IDX file (${bytes.length} bytes, expected a header ` +
        `starting ${expected}); ${remedy}`,
    );
  }

  const magic = bytes.subarray(0, 4);
  if (magic[0] !== 0 || magic[1] !== 0) {
    throw new DatasetError(
      file,
      `${file} is not an IDX file: it starts with ${hex(magic)} where ${expected} was ` +
        `expected; check that the path points at an MNIST-format file, or ${remedy}`,
    );
  }
  if (magic[2] !== IDX_UINT8) {
    const typeName = IDX_TYPE_NAMES[magic[2]] ?? 'an unknown type';
    throw new DatasetError(
      file,
      `${file} stores ${typeName} values (type byte 0x${hex(magic.subarray(2, 3))}); ` +
        'only unsigned bytes (0x08) are supported, as in the MNIST family',
    );
  }
  if (magic[3] !== ndims) {
    const role = ndims === 3 ? 'an image file (count, rows, columns)' : 'a label file (count)';
    throw new DatasetError(
      file,
      `${file} has ${magic[3]} dimensions but ${role} needs ${ndims}; ` +
        'were the image and label files swapped?',
    );
  }

  const headerLength = 4 + 4 * ndims;
  if (bytes.length < headerLength) {
    throw new DatasetError(
      file,
      `${file} is truncated inside its header (${bytes.length} of ${headerLength} bytes); ` +
        remedy,
    );
  }
  return headerLength;
}

/**
 * Decodes an uncompressed IDX byte array of unsigned bytes with `ndims` dimensions.
 * The payload must hold exactly the product of the dimension sizes.
 *
 * @param describe Says what the dimensions mean, for the truncation message
 *   (e.g. "60000 images of 28x28").
 * @throws DatasetError on a wrong magic number, value type, dimension count,
 *   a zero dimension, or a payload that is shorter or longer than the header says.
 */
export function decodeIdx(
  bytes: Uint8Array,
  file: string,
  ndims: number,
  remedy = DEFAULT_REMEDY,
  describe: (dims: number[]) => string = (dims) => `dimensions ${dims.join('x')}`,
): IdxArray {
  const headerLength = checkMagic(bytes, file, ndims, remedy);

  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  for (let d = 0; d < ndims; d++) dims.push(view.getUint32(4 + 4 * d, false));
  if (dims.some((size) => size === 0)) {
    throw new DatasetError(
      file,
      `${file} declares an empty dimension (${dims.join('x')}); ${remedy}`,
    );
  }

  const expected = dims.reduce((a, b) => a * b, 1);
  const found = bytes.length - headerLength;
  if (found < expected) {
    throw new DatasetError(
      file,
      `${file} is truncated: header says ${describe(dims)} = ${expected} bytes but only ` +
        `${found} follow; ${remedy}`,
    );
  }
  if (found > expected) {
    throw new DatasetError(
      file,
      `${file} has ${found - expected} bytes after its payload: header says ` +
        `${describe(dims)} = ${expected} bytes but ${found} follow; ${remedy}`,
    );
  }

  return { dims, data: bytes.subarray(headerLength) };
}

/**
 * Reads an IDX image file (gzip or plain) of uint8 pixels, count x rows x columns.
 *
 * @throws DatasetError when the file is missing, truncated or not such a file.
 */
export function readIdxImages(file: string, remedy = DEFAULT_REMEDY): IdxImages {
  const bytes = readMaybeGzip(file, remedy);
  const { dims, data } = decodeIdx(
    bytes, file, 3, remedy, ([n, h, w]) => `${n} images of ${h}x${w}`,
  );
  return { count: dims[0], height: dims[1], width: dims[2], images: data };
}

/**
 * Reads an IDX label file (gzip or plain) and checks every label is a class index.
 *
 * @throws DatasetError when the file is missing, truncated, not such a file, or
 *   holds a label that is not below `classes`.
 */
export function readIdxLabels(
  file: string,
  classes: number,
  remedy = DEFAULT_REMEDY,
): Uint8Array {
  const bytes = readMaybeGzip(file, remedy);
  const { data } = decodeIdx(bytes, file, 1, remedy, ([n]) => `${n} labels`);
  checkLabels(data, classes, file, remedy);
  return data;
}

/**
 * Throws a DatasetError naming the first label that is not below `classes`.
 */
export function checkLabels(
  labels: Uint8Array,
  classes: number,
  file: string,
  remedy = DEFAULT_REMEDY,
): void {
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] >= classes) {
      throw new DatasetError(
        file,
        `${file} has label ${labels[i]} at record ${i}, but the dataset has ${classes} ` +
          `classes (labels 0..${classes - 1}); the file is damaged or belongs to ` +
          `another dataset: ${remedy}`,
      );
    }
  }
}

/**
 * Reads an IDX image file and its label file into one ImageSet (1 channel).
 *
 * @throws DatasetError for any problem with either file, or when they disagree on
 *   the number of records.
 */
export function loadIdxPair(imagesFile: string, labelsFile: string, info: IdxSetInfo): ImageSet {
  const remedy = info.remedy ?? DEFAULT_REMEDY;
  const images = readIdxImages(imagesFile, remedy);
  const labels = readIdxLabels(labelsFile, info.classes, remedy);

  if (labels.length !== images.count) {
    throw new DatasetError(
      labelsFile,
      `${imagesFile} holds ${images.count} images but ${labelsFile} holds ` +
        `${labels.length} labels; the two files must come from the same release: ${remedy}`,
    );
  }

  return {
    images: images.images,
    labels,
    count: images.count,
    height: images.height,
    width: images.width,
    channels: 1,
    classes: info.classes,
    name: info.name,
    classNames: info.classNames,
    normalization: info.normalization,
  };
}

/**
 * Encodes unsigned bytes as an uncompressed IDX file (gzip the result to get the
 * distributed form).
 *
 * @throws RangeError when the data length is not the product of `dims`.
 */
export function encodeIdx(dims: readonly number[], data: Uint8Array): Uint8Array {
  const expected = dims.reduce((a, b) => a * b, 1);
  if (data.length !== expected) {
    throw new RangeError(
      `IDX data has ${data.length} bytes but dimensions ${dims.join('x')} need ${expected}`,
    );
  }

  const headerLength = 4 + 4 * dims.length;
  const out = new Uint8Array(headerLength + data.length);
  const view = new DataView(out.buffer);
  out.set([0, 0, IDX_UINT8, dims.length], 0);
  dims.forEach((size, d) => view.setUint32(4 + 4 * d, size, false));
  out.set(data, headerLength);
  return out;
}

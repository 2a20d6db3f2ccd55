/**
 * The in-memory image dataset every engine module trains and scores on, and the
 * error type the dataset readers throw.
 */

/** Per-channel normalisation constants, on pixel values scaled to [0, 1]. */
export interface Normalization {
  mean: number[];
  std: number[];
}

/**
 * A set of equally sized uint8 images with integer class labels.
 *
 * Images are stored back to back, each in HWC order (row, column, channel), which
 * is the layout tfjs expects for NHWC tensors, so a batch is a straight copy.
 */
export interface ImageSet {
  /** count * height * width * channels bytes, HWC per image. */
  images: Uint8Array;
  /** One class index per image, each below `classes`. */
  labels: Uint8Array;
  count: number;
  height: number;
  width: number;
  channels: number;
  classes: number;
  /** Display name of the dataset (e.g. "fashion-mnist"); kept by splits and subsets. */
  name: string;
  /** A readable name per class index. */
  classNames: string[];
  /** Constants `toBatch` normalises with: (x / 255 - mean[c]) / std[c]. */
  normalization: Normalization;
}

/**
 * A dataset file or directory that is missing, malformed or inconsistent. The
 * message names the file, says what was wrong and what to do about it.
 */
export class DatasetError extends Error {
  /** The file or directory at fault. */
  readonly file: string;

  constructor(file: string, message: string) {
    super(message);
    this.name = 'DatasetError';
    this.file = file;
  }
}

/** Fashion-MNIST's class names, in label order. */
export const FASHION_MNIST_CLASSES: readonly string[] = [
  'T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat',
  'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot',
];

/** CIFAR-10's class names, in label order. */
export const CIFAR10_CLASSES: readonly string[] = [
  'airplane', 'automobile', 'bird', 'cat', 'deer',
  'dog', 'frog', 'horse', 'ship', 'truck',
];

/** Fashion-MNIST's pixel statistics over its 60,000 training images. */
export const FASHION_MNIST_NORMALIZATION: Readonly<Normalization> = {
  mean: [0.286],
  std: [0.353],
};

/** CIFAR-10's per-channel (R, G, B) pixel statistics over its training images. */
export const CIFAR10_NORMALIZATION: Readonly<Normalization> = {
  mean: [0.4914, 0.4822, 0.4465],
  std: [0.247, 0.2435, 0.2616],
};

/** Bytes one image of the set occupies. */
export function imageBytes(set: ImageSet): number {
  return set.height * set.width * set.channels;
}

/**
 * A new set holding copies of the images at `indices`, in that order. Shape,
 * classes, name and normalisation carry over.
 *
 * @throws RangeError when an index is outside [0, set.count).
 */
export function selectImages(set: ImageSet, indices: ArrayLike<number>): ImageSet {
  const size = imageBytes(set);
  const images = new Uint8Array(indices.length * size);
  const labels = new Uint8Array(indices.length);

  for (let i = 0; i < indices.length; i++) {
    const index = indices[i];
    if (!Number.isInteger(index) || index < 0 || index >= set.count) {
      throw new RangeError(
        `image index ${index} is outside ${set.name}'s ${set.count} images; ` +
          'indices must be integers in [0, count)',
      );
    }
    images.set(set.images.subarray(index * size, (index + 1) * size), i * size);
    labels[i] = set.labels[index];
  }

  return { ...set, images, labels, count: indices.length };
}

/** How many images of each class the set holds, indexed by class. */
export function classHistogram(set: ImageSet): number[] {
  const counts = new Array<number>(set.classes).fill(0);
  for (let i = 0; i < set.count; i++) counts[set.labels[i]]++;
  return counts;
}

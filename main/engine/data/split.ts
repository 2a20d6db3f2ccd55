/**
 * Seeded, class-balanced selections of a dataset: the validation split that search
 * scores architectures on (held out of the training set, so the test set is never
 * used for search or selection), and smaller training subsets for the CPU preset.
 *
 * Porting Note: the paper holds out 50 images per class; the authors' CIFAR code
 * holds out the last 20%. Ours draws a seeded random, class-balanced split.
 */
import { Rng } from '../rng.js';
import { type ImageSet, selectImages } from './imageSet.js';

/** A training set divided into the images that train and the images that score. */
export interface ValidationSplit {
  train: ImageSet;
  validation: ImageSet;
  /** Indices into the original set, ascending, of the images kept for training. */
  trainIndices: Int32Array;
  /** Indices into the original set, ascending, of the held-out images. */
  validationIndices: Int32Array;
}

/** The indices of each class's images, ascending, indexed by class. */
export function indicesByClass(set: ImageSet): number[][] {
  const byClass: number[][] = Array.from({ length: set.classes }, () => []);
  for (let i = 0; i < set.count; i++) byClass[set.labels[i]].push(i);
  return byClass;
}

/**
 * For each class, a seeded random choice of `quota[class]` of its indices; the rest
 * of the class's indices in the second list. The draws for a class do not depend on
 * the quota, so a larger quota extends a smaller one's choice.
 */
function chooseByClass(
  set: ImageSet,
  quota: (cls: number) => number,
  seed: number,
): { chosen: Int32Array; rest: Int32Array } {
  const rng = new Rng(seed);
  const chosen: number[] = [];
  const rest: number[] = [];

  indicesByClass(set).forEach((indices, cls) => {
    const shuffled = rng.shuffle(indices.slice());
    chosen.push(...shuffled.slice(0, quota(cls)));
    rest.push(...shuffled.slice(quota(cls)));
  });

  const ascending = (list: number[]) => Int32Array.from(list).sort();
  return { chosen: ascending(chosen), rest: ascending(rest) };
}

function checkCount(value: number, what: string): void {
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(`${what} must be a positive integer, got ${value}`);
  }
}

/**
 * Holds `perClass` images of every class out of a training set, chosen at random
 * with `seed`. The two parts are disjoint and together are the whole set; both keep
 * the original order. The same seed always gives the same split.
 *
 * @example
 * const { train, validation } = splitValidation(data.train, 50, config.seed);
 * @throws RangeError when perClass is not a positive integer, or a class has no
 *   more than perClass images (training would keep none of it).
 */
export function splitValidation(
  train: ImageSet,
  perClass: number,
  seed: number,
): ValidationSplit {
  checkCount(perClass, 'validation images per class');

  const sizes = indicesByClass(train).map((indices) => indices.length);
  const short = sizes.findIndex((size) => size <= perClass);
  if (short >= 0) {
    throw new RangeError(
      `cannot hold out ${perClass} validation images per class from ${train.name}: class ` +
        `${short} (${train.classNames[short] ?? short}) has only ${sizes[short]} training ` +
        `images and must keep at least one; lower the validation size below ` +
        `${Math.min(...sizes)} or use a larger training set`,
    );
  }

  const { chosen, rest } = chooseByClass(train, () => perClass, seed);
  return {
    train: selectImages(train, rest),
    validation: selectImages(train, chosen),
    trainIndices: rest,
    validationIndices: chosen,
  };
}

/**
 * A seeded, class-balanced subset of `count` images. Each class gets
 * floor(count / classes) images; the remainder goes one each to the lowest classes.
 * The subset keeps the original order.
 *
 * @example
 * const small = subsetBalanced(split.train, 2000, seed); // 200 per class
 * @throws RangeError when count is not a positive integer or a class has fewer
 *   images than its share.
 */
export function subsetBalanced(set: ImageSet, count: number, seed: number): ImageSet {
  checkCount(count, 'subset size');

  const base = Math.floor(count / set.classes);
  const extra = count % set.classes;
  const quota = (cls: number) => base + (cls < extra ? 1 : 0);

  const sizes = indicesByClass(set).map((indices) => indices.length);
  const short = sizes.findIndex((size, cls) => size < quota(cls));
  if (short >= 0) {
    throw new RangeError(
      `cannot take a balanced subset of ${count} images from ${set.name}: class ${short} ` +
        `(${set.classNames[short] ?? short}) needs ${quota(short)} but has only ` +
        `${sizes[short]}; ask for at most ${Math.min(...sizes) * set.classes} images`,
    );
  }

  return selectImages(set, chooseByClass(set, quota, seed).chosen);
}

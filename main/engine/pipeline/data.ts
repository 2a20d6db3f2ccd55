import { loadDataset } from '../data/dataset.js';
import type { ImageSet } from '../data/imageSet.js';
import { splitValidation, subsetBalanced } from '../data/split.js';
import type { SearchConfig } from './config.js';

/** The data a search works on: training images, the held-out validation split, the test set. */
export interface SearchData {
  train: ImageSet;
  validation: ImageSet;
  /** Never used for search or selection; kept for training from scratch. */
  test: ImageSet;
  source: string;
  dir: string;
  classes: number;
}

/**
 * Loads the configured dataset (or the default one), holds out a seeded,
 * class-balanced validation split from the training set, and optionally
 * trims what is left to a balanced subset for CPU-sized searches.
 */
export function loadSearchData(config: SearchConfig): SearchData {
  const loaded = loadDataset({ dir: config.dataDir });
  const split = splitValidation(loaded.train, config.validationPerClass, config.seed);

  const subset = config.supernet.trainSubset;
  const train =
    subset !== undefined && subset < split.train.count
      ? subsetBalanced(split.train, subset, config.seed)
      : split.train;

  return {
    train,
    validation: split.validation,
    test: loaded.test,
    source: loaded.source,
    dir: loaded.dir,
    classes: config.classes ?? loaded.train.classes,
  };
}

/**
 * The engine's datasets: readers for the MNIST family (IDX) and CIFAR-10 (binary),
 * the default-data lookup, seeded class-balanced splits, and batching.
 */
export * from './imageSet.js';
export * from './idx.js';
export * from './cifar.js';
export * from './dataset.js';
export * from './split.js';
export * from './batches.js';

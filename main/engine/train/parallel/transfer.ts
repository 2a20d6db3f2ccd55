/**
 * Conversions between tensors and the plain arrays that cross to and from
 * replica threads: weights, gradients and BN batch statistics.
 */
import * as tf from '@tensorflow/tfjs';

import type { ParamStore } from '../../nn/params.js';
import type { BatchNormParams, BatchNormStat } from '../../nn/unifiedBlock.js';
import type { GradientMap } from '../optimizers.js';
import type { StatArrays, UnitResult } from './protocol.js';

/** Every trainable value of the store, in its order, back to back. */
export function packWeights(store: ParamStore): Float32Array {
  const params = store.trainables();
  const total = params.reduce((sum, p) => sum + p.variable.size, 0);
  const out = new Float32Array(total);
  let offset = 0;
  for (const p of params) {
    out.set(p.variable.dataSync() as Float32Array, offset);
    offset += p.variable.size;
  }
  return out;
}

/**
 * Assigns packed trainable values (from packWeights of a store with the same
 * layout) to the store's variables.
 *
 * @throws RangeError when the length differs from the store's trainable count.
 */
export function assignWeights(store: ParamStore, weights: Float32Array): void {
  const params = store.trainables();
  const total = params.reduce((sum, p) => sum + p.variable.size, 0);
  if (weights.length !== total) {
    throw new RangeError(
      `replica weights hold ${weights.length} values but the supernet has ${total} ` +
        'trainable values: parent and replica were built for different networks',
    );
  }

  let offset = 0;
  tf.tidy(() => {
    for (const p of params) {
      const size = p.variable.size;
      p.variable.assign(tf.tensor(weights.subarray(offset, offset + size), p.variable.shape));
      offset += size;
    }
  });
}

/** Copies gradients out of tfjs (and disposes them). */
export function packGradients(grads: GradientMap): Pick<UnitResult, 'gradNames' | 'gradValues'> {
  const gradNames = [...grads.keys()];
  const total = [...grads.values()].reduce((sum, g) => sum + g.size, 0);
  const gradValues = new Float32Array(total);
  let offset = 0;
  for (const g of grads.values()) {
    gradValues.set(g.dataSync() as Float32Array, offset);
    offset += g.size;
    g.dispose();
  }
  return { gradNames, gradValues };
}

/** Gradient tensors from packed arrays, shaped like the store's parameters. */
export function unpackGradients(
  store: ParamStore,
  packed: Pick<UnitResult, 'gradNames' | 'gradValues'>,
): GradientMap {
  const grads: GradientMap = new Map();
  let offset = 0;
  for (const name of packed.gradNames) {
    const variable = store.get(name);
    const size = variable.size;
    grads.set(name, tf.tensor(packed.gradValues.slice(offset, offset + size), variable.shape));
    offset += size;
  }
  return grads;
}

/** Copies BN batch statistics out of tfjs (and disposes them). */
export function packStats(stats: BatchNormStat[]): StatArrays[] {
  const out = stats.map((s) => ({
    names: s.targets.map((t) => t.name),
    mean: (s.mean.dataSync() as Float32Array).slice(),
    variance: (s.variance.dataSync() as Float32Array).slice(),
    count: s.count,
  }));
  for (const s of stats) {
    s.mean.dispose();
    s.variance.dispose();
  }
  return out;
}

/**
 * BN batch statistics as tensors again, their targets found by name.
 *
 * @param bnByName the BNs the pass's architecture uses, by logical name.
 * @throws RangeError naming a BN the architecture does not use.
 */
export function unpackStats(
  arrays: StatArrays[],
  bnByName: Map<string, BatchNormParams>,
): BatchNormStat[] {
  return arrays.map((a) => ({
    targets: a.names.map((name) => {
      const bn = bnByName.get(name);
      if (!bn) {
        throw new RangeError(
          `replica reported statistics of BN '${name}', which the pass's architecture ` +
            'does not use: parent and replica disagree on the network',
        );
      }
      return bn;
    }),
    mean: tf.tensor1d(a.mean),
    variance: tf.tensor1d(a.variance),
    count: a.count,
  }));
}

/**
 * The Gumbel-softmax relaxation the generator is trained through (paper Eq. 2):
 * each sub-block's op weights are softmax((alpha + g) / tau) over the 4 ops,
 * with g drawn from Gumbel(0, 1). The noise comes from the engine's seeded Rng,
 * so a run and its resumed copy draw the same weights.
 */
import * as tf from '@tensorflow/tfjs';

import type { Rng } from '../rng.js';

/** Clamp for the uniform draw, so -log(-log(u)) stays finite in float32. */
const UNIFORM_EPS = 1e-10;

/**
 * Standard Gumbel(0, 1) noise, drawn from the seeded generator.
 *
 * @param size how many values to draw.
 * @param rng the stream to draw from; it advances by exactly `size` draws.
 * @returns a Float32Array of -log(-log(u)) with u uniform in (0, 1).
 */
export function gumbelNoise(size: number, rng: Rng): Float32Array {
  const noise = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    const u = Math.min(Math.max(rng.next(), UNIFORM_EPS), 1 - UNIFORM_EPS);
    noise[i] = -Math.log(-Math.log(u));
  }
  return noise;
}

/** Refuses a temperature that would divide by zero or flip the logits. */
function checkTemperature(tau: number): void {
  if (!Number.isFinite(tau) || tau <= 0) {
    throw new RangeError(
      `Gumbel-softmax temperature must be a positive finite number, got ${tau}`,
    );
  }
}

/**
 * Soft Gumbel-softmax over the last axis: softmax((logits + g) / tau).
 *
 * Logits masked to a large negative value (e.g. -1e9) get weight 0 whatever
 * the noise, because the noise is bounded (about +-23) next to the mask.
 *
 * ```ts
 * const weights = gumbelSoftmax(alpha, 5.0, rng); // alpha [B, L, 6, 4]
 * ```
 *
 * @param logits any shape; the op axis is the last one.
 * @param tau temperature (> 0): high is near uniform, low near one-hot.
 * @param rng seeded stream for the noise (advances by logits.size draws).
 * @returns weights of logits' shape, each last-axis row summing to 1;
 *   differentiable with respect to `logits`.
 * @throws RangeError when tau is not a positive finite number.
 */
export function gumbelSoftmax<T extends tf.Tensor>(logits: T, tau: number, rng: Rng): T {
  checkTemperature(tau);
  const noise = gumbelNoise(logits.size, rng);

  return tf.tidy(() => {
    const g = tf.tensor(noise, logits.shape, 'float32');
    return tf.softmax(tf.div(tf.add(logits, g), tau)) as T;
  });
}

/**
 * Noise-free softmax over the last axis, softmax(logits / tau), used when
 * evaluating the generator (no sampling).
 *
 * @param logits any shape; the op axis is the last one.
 * @param tau temperature (> 0), 1 by default.
 * @returns probabilities of logits' shape, each last-axis row summing to 1.
 * @throws RangeError when tau is not a positive finite number.
 */
export function softmaxWeights<T extends tf.Tensor>(logits: T, tau = 1): T {
  checkTemperature(tau);
  return tf.tidy(() => tf.softmax(tau === 1 ? logits : tf.div(logits, tau)) as T);
}

/**
 * One forward/backward pass of supernet training, shared by the trainer's
 * own thread and its replicas, so both compute exactly the same numbers.
 */
import * as tf from '@tensorflow/tfjs';

import type { Supernet } from '../../nn/supernet.js';
import type { BatchNormStat } from '../../nn/unifiedBlock.js';
import type { Architecture } from '../../space/types.js';
import type { GradientMap } from '../optimizers.js';

/** What one pass yields; the caller owns every tensor in it. */
export interface PassOutput {
  /** Gradients of the (share-scaled) loss by logical parameter name. */
  grads: GradientMap;
  /** Batch statistics of every training-mode BN, not yet folded in. */
  stats: BatchNormStat[];
  /** Mean loss over the pass's images (not scaled by the share). */
  loss: number;
  /** Images whose argmax logit is the label. */
  correct: number;
}

/**
 * Label-smoothed cross-entropy, mean over the batch: the target puts
 * 1 - smoothing on the label and smoothing / classes on every class.
 *
 * @param logits [N, classes].
 * @param labels [N] int32.
 */
export function smoothedCrossEntropy(
  logits: tf.Tensor2D,
  labels: tf.Tensor1D,
  smoothing: number,
): tf.Scalar {
  return tf.tidy(() => {
    const classes = logits.shape[1];
    const target = tf.add(
      tf.mul(tf.oneHot(labels, classes), 1 - smoothing),
      smoothing / classes,
    );
    return tf.neg(tf.mean(tf.sum(tf.mul(target, tf.logSoftmax(logits)), 1))) as tf.Scalar;
  });
}

/**
 * One forward/backward pass of one architecture over one micro-batch, with
 * the loss scaled by the micro-batch's share of the batch (so the gradients
 * of a step's passes sum to the batch gradient).
 *
 * @throws Error when tfjs returns a gradient of a variable the store lacks.
 */
export function computePass(
  supernet: Supernet,
  arch: Architecture,
  x: tf.Tensor4D,
  y: tf.Tensor1D,
  share: number,
  smoothing: number,
): PassOutput {
  const stats: BatchNormStat[] = [];
  const variables = supernet.store.trainables().map((p) => p.variable);
  let correct: tf.Scalar | null = null;

  const { value, grads } = tf.variableGrads(() => {
    const logits = supernet.forwardSinglePath(x, arch, true, stats);
    correct = tf.keep(tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), y), 'float32')));
    return tf.mul(smoothedCrossEntropy(logits, y, smoothing), share) as tf.Scalar;
  }, variables);

  const named: GradientMap = new Map();
  for (const [tfName, g] of Object.entries(grads)) {
    const param = supernet.store.byVariableName(tfName);
    if (!param) {
      tf.dispose(Object.values(grads));
      throw new Error(`gradient for unknown variable '${tfName}'`);
    }
    named.set(param.name, g);
  }

  const loss = value.dataSync()[0] / share;
  const hits = (correct as unknown as tf.Scalar).dataSync()[0];
  value.dispose();
  (correct as unknown as tf.Scalar).dispose();
  return { grads: named, stats, loss, correct: hits };
}

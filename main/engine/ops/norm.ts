/**
 * Batch normalisation: in training, one engine kernel forward and one backward
 * on wasm and cpu (kernels/batchnorm.c), tfjs's autodiff on native
 * TensorFlow; in evaluation, a folded scale and shift.
 */
import * as tf from '@tensorflow/tfjs';

import { usesTfGradients } from './platform.js';
import {
  affineBackwardKernel,
  affineKernel,
  batchNormBackwardKernel,
  batchNormForwardKernel,
} from './kernels/batchNormKernels.js';
import { hasEngineKernels } from './kernels/wasmModule.js';

export interface BatchNormTrainResult<T extends tf.Tensor> {
  /** The normalised, scaled and shifted output, shaped like the input. */
  y: T;
  /** Per-channel batch mean [C]. */
  mean: tf.Tensor1D;
  /**
   * Per-channel biased batch variance [C] (divided by the element count n, as
   * used for normalising); multiply by n / (n - 1) for an unbiased running
   * estimate.
   */
  variance: tf.Tensor1D;
}

/**
 * Batch normalisation with batch statistics (training mode), optionally
 * followed by ReLU6.
 *
 * y = act((x - mean) * gamma * rsqrt(variance + eps) + beta), with mean and
 * variance taken over every axis but the last. The statistics are returned so
 * the caller can update its running averages (keep them with tf.keep when
 * called inside tf.tidy); no gradient flows through them. On wasm and cpu the
 * forward and the gradient are one kernel each (kernels/batchnorm.c), which
 * keeps only x for the backward pass.
 *
 * @param x Input [N,H,W,C] or [N,C].
 * @param gamma Scale [C].
 * @param beta Shift [C].
 * @param eps Added to the variance before the square root.
 * @param relu6After apply ReLU6 to the result (fused on wasm and cpu).
 * @throws Error when gamma or beta does not have C elements.
 */
export function batchNormTrain<T extends tf.Tensor4D | tf.Tensor2D>(
  x: T,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  eps = 1e-5,
  relu6After = false,
): BatchNormTrainResult<T> {
  checkChannels('batchNormTrain', x, [gamma, beta]);
  if (usesTfGradients()) return batchNormTrainAutodiff(x, gamma, beta, eps, relu6After);

  let stats: { mean: tf.Tensor1D; variance: tf.Tensor1D } | null = null;

  const op = tf.customGrad((xIn, gammaIn, betaIn, save) => {
    const [y, mean, variance, rstd] = batchNormForwardKernel(
      xIn as tf.Tensor, gammaIn as tf.Tensor1D, betaIn as tf.Tensor1D, eps, relu6After);
    (save as tf.GradSaveFunc)([xIn as tf.Tensor, gammaIn as tf.Tensor, betaIn as tf.Tensor,
      mean, rstd]);
    // tfjs releases everything but the value when the custom op returns.
    stats = { mean: tf.keep(mean), variance: tf.keep(variance) };

    return {
      value: y,
      gradFunc: (dy, saved) => {
        const [sx, sg, sb, sm, sr] = saved as [tf.Tensor, ...tf.Tensor1D[]];
        return batchNormBackwardKernel(dy as tf.Tensor,
          { x: sx, gamma: sg, beta: sb, mean: sm, rstd: sr }, relu6After);
      },
    };
  });

  const y = op(x, gamma, beta) as T;
  const kept = stats as unknown as { mean: tf.Tensor1D; variance: tf.Tensor1D };
  // Clones belong to the caller's scope, like every other result.
  const mean = tf.clone(kept.mean);
  const variance = tf.clone(kept.variance);
  tf.dispose([kept.mean, kept.variance]);
  return { y, mean, variance };
}

/** The same normalisation with tfjs's own gradients (native TensorFlow). */
function batchNormTrainAutodiff<T extends tf.Tensor4D | tf.Tensor2D>(
  x: T,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  eps: number,
  relu6After: boolean,
): BatchNormTrainResult<T> {
  const axes = x.rank === 4 ? [0, 1, 2] : [0];

  return tf.tidy(() => {
    const mean = tf.mean(x, axes) as tf.Tensor1D;
    const centred = tf.sub(x, mean);
    const variance = tf.mean(tf.square(centred), axes) as tf.Tensor1D;
    const scale = tf.mul(gamma, tf.rsqrt(tf.add(variance, eps)));
    const normalised = tf.add(tf.mul(centred, scale), beta) as T;
    return { y: relu6After ? tf.relu6(normalised) : normalised, mean, variance };
  });
}

/** How batchNormInfer treats its parameters and what follows it. */
export interface InferOptions {
  /** Apply ReLU6 to the result (fused with the affine map on wasm and cpu). */
  relu6After?: boolean;
  /**
   * gamma, beta and the statistics are constants: only x gets a gradient.
   * On wasm and cpu this runs one engine kernel each way instead of tfjs ops.
   */
  frozen?: boolean;
}

/**
 * Batch normalisation with running statistics (evaluation mode).
 *
 * @param x Input [N,H,W,C] or [N,C].
 * @param gamma Scale [C].
 * @param beta Shift [C].
 * @param runningMean Running mean [C].
 * @param runningVariance Running variance [C].
 * @param eps Added to the variance before the square root.
 * @returns The normalised output, shaped like x.
 * @throws Error when a per-channel tensor does not have C elements.
 */
export function batchNormInfer<T extends tf.Tensor4D | tf.Tensor2D>(
  x: T,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  runningMean: tf.Tensor1D,
  runningVariance: tf.Tensor1D,
  eps = 1e-5,
  options: InferOptions = {},
): T {
  checkChannels('batchNormInfer', x, [gamma, beta, runningMean, runningVariance]);
  const relu6After = options.relu6After ?? false;

  return tf.tidy(() => {
    // Folding the statistics into one scale and shift keeps the work on [C] vectors.
    const scale = tf.mul(gamma, tf.rsqrt(tf.add(runningVariance, eps))) as tf.Tensor1D;
    const shift = tf.sub(beta, tf.mul(runningMean, scale)) as tf.Tensor1D;

    if (options.frozen && hasEngineKernels()) {
      const op = tf.customGrad((xIn, save) => {
        // Saved, scale and shift outlive this tidy until the backward pass.
        (save as tf.GradSaveFunc)([xIn as tf.Tensor, scale, shift]);
        return {
          value: affineKernel(xIn as tf.Tensor, scale, shift, relu6After),
          gradFunc: (dy, saved) => {
            const [sx, sScale, sShift] = saved as [tf.Tensor, tf.Tensor1D, tf.Tensor1D];
            return affineBackwardKernel(dy as tf.Tensor, sx, sScale, sShift, relu6After);
          },
        };
      });
      return op(x) as T;
    }

    const y = tf.add(tf.mul(x, scale), shift) as T;
    return relu6After ? tf.relu6(y) : y;
  });
}

function checkChannels(op: string, x: tf.Tensor, perChannel: tf.Tensor1D[]): void {
  if (x.rank !== 4 && x.rank !== 2) {
    throw new Error(`${op}: input [${x.shape}] must be [N,H,W,C] or [N,C].`);
  }

  const c = x.shape[x.rank - 1];
  for (const t of perChannel) {
    if (t.rank !== 1 || t.shape[0] !== c) {
      throw new Error(
        `${op}: per-channel tensor of shape [${t.shape}] does not match the ${c} ` +
          `channels of input [${x.shape}]; expected [${c}].`,
      );
    }
  }
}

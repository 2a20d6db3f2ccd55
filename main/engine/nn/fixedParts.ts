/**
 * The parameters of the parts every network of a preset shares (method.md 8b):
 * the stem and first block before the searchable layers, and the head after
 * them. The supernet and the stand-alone network both create theirs here, so
 * the two stay the same network outside the searchable layers.
 */
import type * as tf from '@tensorflow/tfjs';

import { layerShapes } from '../space/presets.js';
import type { Preset } from '../space/types.js';
import type { ParamStore } from './params.js';
import { createBatchNorm, type BatchNormParams } from './unifiedBlock.js';

/** Stem 3x3 conv + BN, then the first block: depthwise 3x3 + BN, 1x1 + BN. */
export interface StemParams {
  stemConv: tf.Variable;
  stemBn: BatchNormParams;
  firstDw: tf.Variable;
  firstDwBn: BatchNormParams;
  firstProject: tf.Variable;
  firstProjectBn: BatchNormParams;
}

/** Head 1x1 conv + BN, then the linear classifier. */
export interface HeadParams {
  headConv: tf.Variable;
  headBn: BatchNormParams;
  classifierW: tf.Variable;
  classifierB: tf.Variable;
}

/** Creates the stem and first block (call before the searchable layers: seeded order). */
export function createStemParams(s: ParamStore, preset: Preset): StemParams {
  const stemC = preset.stem.channels;
  const firstC = preset.firstBlockChannels;
  return {
    stemConv: s.heNormal('stem/conv', [3, 3, preset.inputChannels, stemC], 9 * stemC),
    stemBn: createBatchNorm(s, 'stem/bn', stemC),
    firstDw: s.heNormal('first/dw', [3, 3, stemC, 1], 9),
    firstDwBn: createBatchNorm(s, 'first/dw_bn', stemC),
    firstProject: s.heNormal('first/project', [stemC, firstC], firstC),
    firstProjectBn: createBatchNorm(s, 'first/project_bn', firstC),
  };
}

/** Creates the head and classifier (call after the searchable layers). */
export function createHeadParams(s: ParamStore, preset: Preset, classes: number): HeadParams {
  const shapes = layerShapes(preset);
  const lastC = shapes.length ? shapes[shapes.length - 1].cOut : preset.firstBlockChannels;
  const headC = preset.headChannels;
  return {
    headConv: s.heNormal('head/conv', [lastC, headC], headC),
    headBn: createBatchNorm(s, 'head/bn', headC),
    classifierW: s.normal('classifier/weight', [headC, classes], 0.01, 'linear'),
    classifierB: s.constant('classifier/bias', [classes], 0, 'bias'),
  };
}

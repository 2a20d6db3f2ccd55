/**
 * The engine's tensor ops: the only ops the supernet and the generator call,
 * so that training works on every backend (see conv.ts for why).
 */
export { conv1x1, conv2d, depthwiseConv, KERNEL_SIZES } from './conv.js';
export {
  ALL_GRADIENTS,
  FILTER_GRADIENT_ONLY,
  INPUT_GRADIENT_ONLY,
  type OpGradients,
} from './platform.js';
export { batchNormInfer, batchNormTrain, type BatchNormTrainResult } from './norm.js';
export { dense, globalAvgPool, relu6 } from './basic.js';

/**
 * The vocabulary of the unified search space, shared by every engine module.
 *
 * A searchable layer holds one unified block of MAX_EXPANSION sub-blocks; each
 * sub-block runs one op. Alpha (the architecture parameters) is indexed
 * [layer][subBlock][opIndex] with ops in SUB_BLOCK_OPS order.
 */

/** What one sub-block does: a depthwise k x k conv, or the zero (skip) path. */
export type SubBlockOp = '3x3' | '5x5' | '7x7' | 'skip';

/** Alpha's last axis, in this order. */
export const SUB_BLOCK_OPS: readonly SubBlockOp[] = ['3x3', '5x5', '7x7', 'skip'];

/** The ops that keep a sub-block (its kernel choices). */
export const KERNEL_OPS: readonly SubBlockOp[] = ['3x3', '5x5', '7x7'];

/** Index of the skip op on alpha's last axis. */
export const SKIP_INDEX = 3;

/** e_max: sub-blocks per unified block, and the largest expansion rate. */
export const MAX_EXPANSION = 6;

/** Kernel size of a kept op. */
export function kernelSize(op: SubBlockOp): number {
  if (op === 'skip') throw new RangeError('the skip op has no kernel');
  return Number(op[0]);
}

/** A discrete architecture: for each searchable layer, the op of each sub-block. */
export interface Architecture {
  layers: SubBlockOp[][];
}

/** How the space is searched: the paper's FS switch and our minimum expansion. */
export interface SpaceOptions {
  /** Skips only in the highest-index sub-blocks (the paper's FS). */
  forcedSampling: boolean;
  /** Sub-blocks 0..minExpansion-1 are always kept (ours; 2 by default). */
  minExpansion: number;
}

export const DEFAULT_SPACE_OPTIONS: SpaceOptions = { forcedSampling: true, minExpansion: 2 };

/** One searchable layer of a preset, before resolutions are worked out. */
export interface LayerDef {
  cOut: number;
  stride: 1 | 2;
}

/** A search-space preset: the fixed parts and the searchable layers. */
export interface Preset {
  name: string;
  inputSize: number;
  inputChannels: number;
  /** 3x3 stem conv: output channels and stride. */
  stem: { channels: number; stride: 1 | 2 };
  /** MBConv e=1 after the stem: dw 3x3 on stem channels, 1x1 to these channels. */
  firstBlockChannels: number;
  layers: LayerDef[];
  /** 1x1 conv width before global pooling. */
  headChannels: number;
  /** Default constraint interval [lowM, highM] in MFLOPs, for the generator. */
  constraint: { lowM: number; highM: number };
}

/** One searchable layer with its shapes resolved ("same" padding, ceil division). */
export interface LayerShape {
  cIn: number;
  cOut: number;
  stride: 1 | 2;
  /** Input resolution H (square). */
  inSize: number;
  /** Output resolution H' = ceil(H / stride). */
  outSize: number;
  /** Residual add: stride 1 and cIn = cOut. */
  residual: boolean;
}

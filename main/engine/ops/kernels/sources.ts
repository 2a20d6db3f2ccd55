/**
 * What the engine's WebAssembly kernel module is built from, shared by the
 * build script and the test that checks the committed binary is current.
 */
import { createHash } from 'node:crypto';

/** C sources, in link order, relative to this folder. */
export const KERNEL_SOURCES = ['depthwise.c', 'batchnorm.c', 'matmul.c'] as const;

/** Functions the module exports. */
export const KERNEL_EXPORTS = [
  'depthwise_forward',
  'depthwise_grad_input',
  'depthwise_grad_filter',
  'batchnorm_forward',
  'batchnorm_backward',
  'affine_forward',
  'affine_backward',
  'matmul_forward',
  'matmul_grad_a',
  'matmul_grad_b',
] as const;

/** One SHA-256 over every source's bytes, each prefixed by its length. */
export function sourcesSha256(contents: Uint8Array[]): string {
  const hash = createHash('sha256');
  for (const c of contents) hash.update(`${c.length}:`).update(c);
  return hash.digest('hex');
}

/**
 * The one error type the registry throws for bad input or a bad state, so
 * callers (the CLI, IPC handlers) can tell "the user asked for something
 * impossible" apart from a bug.
 */

/** Why a registry call was refused. */
export type RegistryErrorCode =
  | 'NOT_FOUND'
  | 'AMBIGUOUS'
  | 'NOT_A_DATABASE'
  | 'READ_ONLY'
  | 'INVALID'
  | 'STATE'
  | 'MIGRATION';

/** A refused registry call; the message names the value seen and what to do. */
export class RegistryError extends Error {
  /** Machine-readable reason. */
  readonly code: RegistryErrorCode;

  constructor(code: RegistryErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RegistryError';
    this.code = code;
  }
}

/**
 * What the baseline searches (random search, evolution) share: their results
 * and the hooks a caller watches them through.
 */
import type { Architecture } from '../space/types.js';

/** One architecture a search scored. */
export interface ScoredArchitecture {
  architecture: Architecture;
  flopsM: number;
  /** Supernet validation accuracy in [0, 1] (after BN recalibration). */
  accuracy: number;
}

/** The outcome of one baseline search for one budget. */
export interface BaselineResult {
  method: 'random' | 'evolution';
  budgetM: number;
  /** The most accurate architecture scored (the first one on a tie). */
  best: ScoredArchitecture;
  /** Every distinct architecture scored, in the order it was scored. */
  scored: ScoredArchitecture[];
  /** Supernet evaluations paid for (distinct architectures). */
  evaluations: number;
  /** Wall time of the whole search, sampling included. */
  seconds: number;
  /** Evolution only: the best accuracy after each generation. */
  bestPerGeneration?: number[];
}

/** What a caller can watch and control. */
export interface BaselineHooks {
  /** After every scored architecture: its 1-based index and the planned total. */
  onEvaluation?: (index: number, planned: number, scored: ScoredArchitecture) => void;
  log?: (line: string) => void;
  signal?: AbortSignal;
}

/** A baseline was cancelled through its AbortSignal. */
export class SearchCancelledError extends Error {
  constructor(method: string, budgetM: number, evaluations: number) {
    super(`${method} search for ${budgetM} MFLOPs cancelled after ${evaluations} evaluations`);
    this.name = 'AbortError';
  }
}

/** The most accurate entry, the earliest on a tie. */
export function bestOf(scored: readonly ScoredArchitecture[]): ScoredArchitecture {
  if (scored.length === 0) throw new RangeError('no architecture was scored');
  return scored.reduce((best, s) => (s.accuracy > best.accuracy ? s : best));
}

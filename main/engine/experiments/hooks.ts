/**
 * How a caller (CLI, job runner, test) watches an experiment: log lines,
 * metric points for the registry, the share of the work done, and a signal
 * that cancels it.
 */

/** One metric point, in the registry's terms. */
export interface ExperimentMetric {
  stage: string;
  epoch: number;
  step: number;
  name: string;
  value: number;
}

export interface ExperimentHooks {
  log?: (line: string) => void;
  onMetrics?: (points: ExperimentMetric[]) => void;
  /** fraction: 0..1 of the whole experiment; stage: what runs now. */
  onProgress?: (fraction: number, stage: string) => void;
  signal?: AbortSignal;
}

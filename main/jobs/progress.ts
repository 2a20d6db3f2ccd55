/**
 * Live progress of a run as the job runner streams it to the GUI. Types only
 * (no Node imports), so the renderer's API contract can share it.
 */
export interface JobProgress {
  runId: string;
  stage: string;
  epoch: number;
  epochs: number;
  step: number;
  steps: number;
  loss: number | null;
  accuracy: number | null;
  etaSec: number | null;
  /** 0..1 over the whole run. */
  progress: number;
}

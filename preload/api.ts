/**
 * The shape of `window.sgnas`, the only bridge from the renderer to the main
 * process. Types only: the renderer imports this file to type its client.
 */
import type {
  ApiName,
  ApiPayload,
  ApiResponse,
  ProgressEvent,
  WorkbenchEvent,
} from '../main/api/contract.js';

/** One method per API call; each resolves to the wire envelope. */
export type SgnasCalls = {
  [N in ApiName]: (payload: ApiPayload<N>) => Promise<ApiResponse<unknown>>;
};

export interface SgnasBridge extends SgnasCalls {
  /** Calls by name (the renderer's generic client uses this). */
  invoke(name: ApiName, payload: unknown): Promise<ApiResponse<unknown>>;
  /** Every pushed event; returns the unsubscribe. */
  onEvent(listener: (event: WorkbenchEvent) => void): () => void;
  /** Progress events only; returns the unsubscribe. */
  onProgress(listener: (event: ProgressEvent) => void): () => void;
}

/**
 * Loading and error state of one API call, so each piece of a view shows its
 * own spinner or message and one failed request never blanks the page.
 */
import { reactive } from 'vue';

export interface CallState<T> {
  loading: boolean;
  error: string | null;
  data: T | null;
  /** When data last arrived (ms since epoch). */
  loadedAt: number | null;
}

/** A fresh, reactive call state. */
export function callState<T>(initial: T | null = null): CallState<T> {
  return reactive({ loading: false, error: null, data: initial, loadedAt: null }) as CallState<T>;
}

/**
 * Runs a request and records its progress in a call state. Errors are kept
 * in the state (not rethrown) so the view shows them where the data goes.
 *
 * @returns the data, or null when the request failed.
 */
export async function track<T>(state: CallState<T>, request: () => Promise<T>): Promise<T | null> {
  state.loading = true;
  state.error = null;
  try {
    const data = await request();
    state.data = data;
    state.loadedAt = Date.now();
    return data;
  } catch (err) {
    state.error = err instanceof Error ? err.message : String(err);
    return null;
  } finally {
    state.loading = false;
  }
}

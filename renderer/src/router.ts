/**
 * A hash router: `#/runs`, `#/run/<id>`, `#/new`, `#/tau`, `#/architecture`,
 * `#/compare`, `#/ablations`, `#/generate`, `#/experiments`. Hash routes need no server
 * rewrites and keep the `?token=` query of the page URL intact.
 */
import { ref } from 'vue';

export const VIEWS = [
  'runs',
  'new',
  'run',
  'tau',
  'architecture',
  'compare',
  'ablations',
  'generate',
  'experiments',
] as const;

export type ViewName = (typeof VIEWS)[number];

export interface Route {
  view: ViewName;
  /** The run id of `#/run/<id>`. */
  id: string | null;
}

/** Reads a hash like "#/run/abc"; unknown hashes go to the Runs view. */
export function parseHash(hash: string): Route {
  const [view, ...rest] = hash.replace(/^#\/?/, '').split('/');
  const known = (VIEWS as readonly string[]).includes(view);
  const id = rest.length > 0 ? decodeURIComponent(rest.join('/')) : null;
  return known ? { view: view as ViewName, id } : { view: 'runs', id: null };
}

export const route = ref<Route>(parseHash(typeof location === 'undefined' ? '' : location.hash));

/** Goes to a view (updates the hash, which updates `route`). */
export function navigate(view: ViewName, id?: string) {
  location.hash = id ? `#/${view}/${encodeURIComponent(id)}` : `#/${view}`;
}

/** Keeps `route` in step with the address bar. */
export function startRouter(): void {
  window.addEventListener('hashchange', () => {
    route.value = parseHash(location.hash);
  });
}

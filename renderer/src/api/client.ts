/**
 * The renderer's API client. It picks its transport once at start: the
 * preload bridge `window.sgnas` inside Electron, else HTTP to the local host
 * with the token taken from the page URL. Views and stores see one typed
 * `call` either way.
 */
import type {
  ApiName,
  ApiPayload,
  ApiResponse,
  ApiResult,
  WorkbenchEvent,
} from '../../../main/api/contract';
import type { SgnasBridge } from '../../../preload/api';

/** How a call travels; both transports return the wire envelope. */
export interface Transport {
  readonly kind: 'ipc' | 'http';
  invoke(name: ApiName, payload: unknown): Promise<ApiResponse<unknown>>;
  /** Subscribes to pushed events; returns the unsubscribe. */
  subscribe(listener: (event: WorkbenchEvent) => void): () => void;
}

/** A failed call, with the API's error code and message. */
export class ApiCallError extends Error {
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.name = 'ApiCallError';
    this.code = code;
  }
}

/** The typed client over a transport. */
export class ApiClient {
  readonly transport: Transport;

  constructor(transport: Transport) {
    this.transport = transport;
  }

  /**
   * Calls the API.
   *
   * @throws ApiCallError with the server's code and message when refused.
   */
  async call<N extends ApiName>(name: N, payload: ApiPayload<N>): Promise<ApiResult<N>> {
    const response = await this.transport.invoke(name, payload);
    if (!response.ok) throw new ApiCallError(response.error.code, response.error.message);
    return response.value as ApiResult<N>;
  }

  onEvent(listener: (event: WorkbenchEvent) => void): () => void {
    return this.transport.subscribe(listener);
  }
}

/** The Electron transport: the preload's bridge. */
export function ipcTransport(bridge: SgnasBridge): Transport {
  return {
    kind: 'ipc',
    invoke: (name, payload) => bridge.invoke(name, payload),
    subscribe: (listener) => bridge.onEvent(listener),
  };
}

/** What the HTTP transport needs from the browser (injectable for tests). */
export interface HttpEnv {
  fetch: typeof fetch;
  EventSource?: typeof EventSource;
}

/**
 * The HTTP transport: POST /api/<call> with a bearer token; events over
 * server-sent events (EventSource cannot send headers, so the token goes in
 * the query there).
 */
export function httpTransport(baseUrl: string, token: string, env: HttpEnv): Transport {
  const listeners = new Set<(event: WorkbenchEvent) => void>();
  let source: EventSource | null = null;

  function ensureStream() {
    if (source || !env.EventSource) return;
    const url = `${baseUrl}/api/events?token=${encodeURIComponent(token)}`;
    source = new env.EventSource(url);
    source.onmessage = (message: MessageEvent<string>) => {
      const event = JSON.parse(message.data) as WorkbenchEvent;
      for (const listener of listeners) listener(event);
    };
  }

  return {
    kind: 'http',
    async invoke(name, payload) {
      const response = await env.fetch(`${baseUrl}/api/${name}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
        body: JSON.stringify(payload ?? {}),
      });
      const text = await response.text();
      try {
        return JSON.parse(text) as ApiResponse<unknown>;
      } catch {
        const message =
          `${name}: the server answered ${response.status} with non-JSON: ` +
          text.slice(0, 200);
        return { ok: false, error: { code: 'failed', message } };
      }
    },
    subscribe(listener) {
      listeners.add(listener);
      ensureStream();
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0 && source) {
          source.close();
          source = null;
        }
      };
    },
  };
}

/**
 * Picks the transport for this page: the bridge when the preload exposed it,
 * else HTTP to the page's own origin with `?token=` from its URL.
 *
 * @throws Error when neither is available (a page opened without its token).
 */
export function detectTransport(win: Window & { sgnas?: SgnasBridge }): Transport {
  if (win.sgnas) return ipcTransport(win.sgnas);

  const token = new URLSearchParams(win.location.search).get('token');
  if (!token) {
    throw new Error(
      'this page needs its access token: open the full URL that `npm run serve` printed ' +
        '(it ends in ?token=...)',
    );
  }
  return httpTransport(win.location.origin, token, {
    fetch: win.fetch.bind(win),
    EventSource: (win as unknown as { EventSource?: typeof EventSource }).EventSource,
  });
}

let current: ApiClient | null = null;

/** Sets the client the stores use (at start-up, or a fake in tests). */
export function provideApi(client: ApiClient): void {
  current = client;
}

/** The client the stores use. */
export function useApi(): ApiClient {
  if (!current) throw new Error('the API client is not set up: call provideApi() at start-up');
  return current;
}

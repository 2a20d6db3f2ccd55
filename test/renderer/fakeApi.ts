/**
 * A fake API transport for store tests: answers from a table of handlers,
 * records every call, and lets a test push events.
 */
import type { ApiName, WorkbenchEvent } from '../../main/api/contract.js';
import { ApiClient, type Transport } from '../../renderer/src/api/client.js';

export type FakeHandlers = Partial<Record<ApiName, (payload: never) => unknown>>;

export function fakeApi(handlers: FakeHandlers) {
  const calls: { name: ApiName; payload: unknown }[] = [];
  const listeners = new Set<(event: WorkbenchEvent) => void>();
  const transport: Transport = {
    kind: 'http',
    async invoke(name, payload) {
      calls.push({ name, payload });
      const handler = handlers[name] as ((p: unknown) => unknown) | undefined;
      if (!handler) {
        return { ok: false, error: { code: 'unknown-call', message: `no fake for ${name}` } };
      }
      try {
        return { ok: true, value: await handler(payload) };
      } catch (err) {
        return { ok: false, error: { code: 'failed', message: (err as Error).message } };
      }
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  return {
    client: new ApiClient(transport),
    calls,
    push: (event: WorkbenchEvent) => listeners.forEach((l) => l(event)),
  };
}

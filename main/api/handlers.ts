/**
 * The API handlers: plain functions that validate an untrusted payload
 * against the contract and pass it to the service. Both transports (IPC and
 * the HTTP host) call these and nothing else, so validation cannot be skipped.
 */
import type { z } from 'zod';

import {
  API,
  isApiName,
  type ApiName,
  type ApiParsed,
  type ApiResponse,
  type ApiResult,
  type WorkbenchEvent,
} from './contract.js';
import { ApiError } from './errors.js';

/** What the handlers call: one method per API call, plus the event stream. */
export type WorkbenchService = {
  [N in ApiName]: (payload: ApiParsed<N>) => Promise<ApiResult<N>>;
} & {
  /** Subscribes to progress/status/log events; returns the unsubscribe. */
  onEvent(listener: (event: WorkbenchEvent) => void): () => void;
};

/** One validated entry point per call. */
export type ApiHandlers = { [N in ApiName]: (payload: unknown) => Promise<ApiResult<N>> };

/** Formats zod issues as "field: problem" lines naming the offending path. */
function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .map((issue) => {
      const where = issue.path.length > 0 ? issue.path.map(String).join('.') : '(payload)';
      return `${where}: ${issue.message}`;
    })
    .join('; ');
}

/**
 * Validates a payload for one call.
 *
 * @throws ApiError 'invalid-payload' naming the call and every bad field,
 *   e.g. "getRun: invalid payload: runId: Invalid input: expected string,
 *   received number".
 */
export function parsePayload<N extends ApiName>(name: N, payload: unknown): ApiParsed<N> {
  const schema = API[name].payload as unknown as z.ZodType<ApiParsed<N>>;
  const parsed = schema.safeParse(payload ?? {});
  if (parsed.success) return parsed.data;

  throw new ApiError(
    'invalid-payload',
    `${name}: invalid payload: ${describeIssues(parsed.error.issues)}`,
  );
}

/**
 * Builds the handlers over a service.
 *
 * @param service the implementation (main/api/service.ts, or a fake in tests).
 * @returns for each call a function that validates, then delegates.
 */
export function createHandlers(service: WorkbenchService): ApiHandlers {
  const entries = (Object.keys(API) as ApiName[]).map((name) => {
    const handler = async (payload: unknown) => {
      const parsed = parsePayload(name, payload);
      const method = service[name] as (p: typeof parsed) => Promise<unknown>;
      return method.call(service, parsed);
    };
    return [name, handler] as const;
  });

  return Object.fromEntries(entries) as unknown as ApiHandlers;
}

/**
 * Runs a call by name and wraps the outcome in the wire envelope; never
 * throws. Unknown names are refused before anything runs.
 */
export async function dispatch(
  handlers: ApiHandlers,
  name: string,
  payload: unknown,
): Promise<ApiResponse<unknown>> {
  if (!isApiName(name)) {
    const message = `unknown API call '${name}'; known calls: ${Object.keys(API).join(', ')}`;
    return { ok: false, error: { code: 'unknown-call', message } };
  }

  try {
    const value = await handlers[name](payload);
    return { ok: true, value };
  } catch (err) {
    if (err instanceof ApiError) {
      return { ok: false, error: { code: err.code, message: err.message } };
    }
    const message = err instanceof Error ? err.message : String(err);
    return { ok: false, error: { code: 'failed', message: `${name} failed: ${message}` } };
  }
}

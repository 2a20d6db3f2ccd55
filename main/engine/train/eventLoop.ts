/**
 * Lets timers, signals and IPC messages run between training steps. A step is
 * one long synchronous stretch of tensor work, and an `await` on a settled
 * promise only drains microtasks, so without this a cancel request, Ctrl-C or
 * a heartbeat timer would wait for the whole stage to end.
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

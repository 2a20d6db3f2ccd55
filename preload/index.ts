/**
 * The preload: exposes `window.sgnas` through contextBridge. It forwards
 * calls by name to the main process, where every payload is validated; the
 * renderer gets no Node, Electron or file-system access of its own.
 *
 * Built as CommonJS so the window's sandbox can stay on.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';

import { API_CALL_NAMES, IPC_EVENT_CHANNEL, IPC_PREFIX } from '../main/api/names.js';
import type { SgnasBridge } from './api.js';
import type { WorkbenchEvent } from '../main/api/contract.js';

const known = new Set<string>(API_CALL_NAMES);

function invoke(name: string, payload: unknown) {
  // Only the contract's channels can be reached, whatever the renderer passes.
  if (!known.has(name)) {
    const message = `unknown API call '${String(name)}'`;
    const error = { code: 'unknown-call' as const, message };
    return Promise.resolve({ ok: false as const, error });
  }
  return ipcRenderer.invoke(IPC_PREFIX + name, payload);
}

function onEvent(listener: (event: WorkbenchEvent) => void): () => void {
  // The Electron event object is not passed on: it would expose `sender`.
  const wrapped = (_event: IpcRendererEvent, data: WorkbenchEvent) => listener(data);
  ipcRenderer.on(IPC_EVENT_CHANNEL, wrapped);
  return () => {
    ipcRenderer.removeListener(IPC_EVENT_CHANNEL, wrapped);
  };
}

const calls = Object.fromEntries(
  API_CALL_NAMES.map((name) => [name, (payload: unknown) => invoke(name, payload)]),
);

const bridge = {
  ...calls,
  invoke,
  onEvent,
  onProgress: (listener) =>
    onEvent((event) => {
      if (event.type === 'progress') listener(event.event);
    }),
} as SgnasBridge;

contextBridge.exposeInMainWorld('sgnas', bridge);

/**
 * The Electron IPC transport of the workbench API: one `ipcMain.handle`
 * channel per call, and one channel on which events are pushed.
 *
 * Electron is only used through the objects passed in, so this module runs
 * in tests with fakes and never loads the Electron binary.
 */
import type { IpcMain, IpcMainInvokeEvent, WebContents } from 'electron';

import { API_NAMES, IPC_EVENT_CHANNEL, IPC_PREFIX, type ApiResponse } from './api/contract.js';
import { dispatch, type ApiHandlers, type WorkbenchService } from './api/handlers.js';

export interface IpcOptions {
  /** Decides whether a message comes from the workbench page (by its frame URL). */
  isTrustedSender: (frameUrl: string) => boolean;
  /** The windows that receive pushed events (those currently open). */
  targets: () => WebContents[];
}

/**
 * Registers every API call on ipcMain and forwards service events.
 *
 * @returns a function that removes the handlers and the event forwarding.
 */
export function registerIpc(
  ipcMain: Pick<IpcMain, 'handle' | 'removeHandler'>,
  handlers: ApiHandlers,
  service: Pick<WorkbenchService, 'onEvent'>,
  options: IpcOptions,
): () => void {
  for (const name of API_NAMES) {
    ipcMain.handle(
      IPC_PREFIX + name,
      async (event: IpcMainInvokeEvent, payload: unknown): Promise<ApiResponse<unknown>> => {
        const frameUrl = event.senderFrame?.url ?? '';
        if (!options.isTrustedSender(frameUrl)) {
          const message = `${name}: refused a call from an untrusted page (${frameUrl})`;
          return { ok: false, error: { code: 'failed', message } };
        }
        return dispatch(handlers, name, payload);
      },
    );
  }

  const unsubscribe = service.onEvent((event) => {
    for (const target of options.targets()) {
      if (!target.isDestroyed()) target.send(IPC_EVENT_CHANNEL, event);
    }
  });

  return () => {
    unsubscribe();
    for (const name of API_NAMES) ipcMain.removeHandler(IPC_PREFIX + name);
  };
}

/**
 * The Electron main process: one window, locked down (see
 * electron/windowOptions.ts), talking to the workbench service over IPC.
 *
 * Electron's userData folder is set to the registry's default home
 * (registry/paths.ts), so the app and the CLI share one registry on every
 * platform (Electron's own Linux default, ~/.config, would differ); SGNAS_DB
 * and SGNAS_HOME override it for both.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';

import { app, BrowserWindow, ipcMain, session, shell } from 'electron';

import { openWorkbench, type Workbench } from './api/workbench.js';
import { DB_FILE_NAME, defaultHome } from './registry/paths.js';
import {
  buildWindowOptions,
  CONTENT_SECURITY_POLICY_HEADER,
  isAllowedNavigation,
} from './electron/windowOptions.js';
import { registerIpc } from './ipc.js';

const outDir = path.join(import.meta.dirname, '..');
const pageFile = path.join(outDir, 'renderer', 'index.html');
const pageUrl = pathToFileURL(pageFile).href;

let workbench: Workbench | null = null;
let removeIpc: (() => void) | null = null;

/** Applies the CSP header to every response and refuses all permission requests. */
function lockDownSession(): void {
  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({
      responseHeaders: {
        ...details.responseHeaders,
        'Content-Security-Policy': [CONTENT_SECURITY_POLICY_HEADER],
      },
    });
  });
  session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) =>
    callback(false),
  );
  session.defaultSession.setPermissionCheckHandler(() => false);
}

function createWindow(): BrowserWindow {
  const preload = path.join(outDir, 'preload', 'index.cjs');
  const win = new BrowserWindow(buildWindowOptions(preload));

  // No new windows; http(s) links open in the system browser instead.
  win.webContents.setWindowOpenHandler(({ url }) => {
    if (/^https?:\/\//.test(url)) void shell.openExternal(url);
    return { action: 'deny' };
  });
  win.webContents.on('will-navigate', (event, url) => {
    if (!isAllowedNavigation(url, pageUrl)) event.preventDefault();
  });
  win.webContents.on('will-attach-webview', (event) => event.preventDefault());
  win.once('ready-to-show', () => win.show());

  void win.loadFile(pageFile);
  return win;
}

async function start(): Promise<void> {
  lockDownSession();
  workbench = await openWorkbench({
    dbPath: process.env.SGNAS_DB ?? path.join(app.getPath('userData'), DB_FILE_NAME),
    resourcesDir: app.isPackaged
      ? process.resourcesPath
      : path.join(app.getAppPath(), 'resources'),
  });
  removeIpc = registerIpc(ipcMain, workbench.handlers, workbench.service, {
    isTrustedSender: (frameUrl) => isAllowedNavigation(frameUrl, pageUrl),
    targets: () => BrowserWindow.getAllWindows().map((w) => w.webContents),
  });
  createWindow();
}

app.setPath('userData', defaultHome());

// No web content of any kind may create further web contents.
app.on('web-contents-created', (_event, contents) => {
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
});

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});

app.on('activate', () => {
  if (BrowserWindow.getAllWindows().length === 0) createWindow();
});

// Quitting waits for the workbench to close, so running jobs are recorded
// as interrupted (and resumable) before the process ends.
let closing = false;
app.on('will-quit', (event) => {
  if (closing || !workbench) return;
  closing = true;
  event.preventDefault();
  removeIpc?.();
  workbench.close().finally(() => app.quit());
});

app.whenReady().then(start, (err: Error) => {
  console.error(`sgnas: could not start the workbench: ${err.message}`);
  app.exit(1);
});

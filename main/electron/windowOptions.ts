/**
 * The security settings of the workbench window, as plain data.
 *
 * Nothing here imports the Electron runtime, so tests assert the settings
 * without the Electron binary, and main/index.ts applies exactly these values.
 */
import type { BrowserWindowConstructorOptions } from 'electron';

/**
 * Content-Security-Policy directives. Everything comes from the app itself:
 * no remote scripts, styles, images or connections, no eval, no inline script
 * and no inline style (Vue's CSS is extracted to files; ECharts and Vue set
 * styles through the CSSOM, which style-src does not govern).
 */
const CSP_DIRECTIVES: readonly string[] = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-src 'none'",
  "worker-src 'none'",
];

/** The CSP for the renderer's meta tag (frame-ancestors is ignored there). */
export const CONTENT_SECURITY_POLICY = CSP_DIRECTIVES.join('; ');

/** The CSP sent as a response header, where frame-ancestors does apply. */
export const CONTENT_SECURITY_POLICY_HEADER = [...CSP_DIRECTIVES, "frame-ancestors 'none'"].join(
  '; ',
);

/** The web preferences every workbench window gets; none may be relaxed. */
export const SECURE_WEB_PREFERENCES = {
  contextIsolation: true,
  nodeIntegration: false,
  nodeIntegrationInWorker: false,
  nodeIntegrationInSubFrames: false,
  sandbox: true,
  webSecurity: true,
  allowRunningInsecureContent: false,
  webviewTag: false,
  experimentalFeatures: false,
  navigateOnDragDrop: false,
  spellcheck: false,
} as const;

/**
 * The options of the one workbench window.
 *
 * @param preloadPath absolute path of the built CommonJS preload
 *   (out/preload/index.cjs); it is the only code that sees Electron's APIs.
 * @returns options for `new BrowserWindow(...)`.
 */
export function buildWindowOptions(preloadPath: string): BrowserWindowConstructorOptions {
  return {
    width: 1400,
    height: 900,
    minWidth: 960,
    minHeight: 600,
    show: false,
    title: 'SGNAS workbench',
    backgroundColor: '#ffffff',
    webPreferences: { ...SECURE_WEB_PREFERENCES, preload: preloadPath },
  };
}

/**
 * Whether the window may navigate to a URL: only to the page it was opened
 * on (a reload), never elsewhere, so a bad link cannot load remote content
 * into a window that holds the preload API.
 *
 * @param target the URL the window wants to open.
 * @param appUrl the URL of the workbench page itself.
 */
export function isAllowedNavigation(target: string, appUrl: string): boolean {
  try {
    const to = new URL(target);
    const app = new URL(appUrl);
    return to.protocol === app.protocol && to.host === app.host && to.pathname === app.pathname;
  } catch {
    return false;
  }
}

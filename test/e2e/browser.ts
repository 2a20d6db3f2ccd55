/**
 * Helpers for the GUI end-to-end tests: find a Chromium (never downloads
 * one), build the renderer if needed, start `main/cli/serve.ts` on a free
 * port with a fresh registry, and read the URL it prints.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { chromium, type BrowserContext } from 'playwright-core';

export const repoRoot = path.resolve(import.meta.dirname, '..', '..');

/** Chromium candidates, in order: an explicit path, Debian's, Playwright's own. */
export function findChromium(): string {
  const candidates = [
    process.env.SGNAS_CHROMIUM,
    '/usr/bin/chromium',
    '/usr/bin/chromium-browser',
    chromium.executablePath(),
  ].filter((c): c is string => typeof c === 'string' && c.length > 0);

  const found = candidates.find((c) => fs.existsSync(c));
  if (!found) {
    throw new Error(
      `no Chromium found (looked at ${candidates.join(', ')}). Install one: on Debian ` +
        '`apt-get install -y chromium`; elsewhere, with internet, `npx playwright install ' +
        'chromium`; or point SGNAS_CHROMIUM at a Chromium binary',
    );
  }
  return found;
}

/** Builds out/ with electron-vite when the renderer has not been built. */
export function ensureBuilt(): void {
  if (fs.existsSync(path.join(repoRoot, 'out', 'renderer', 'index.html'))) return;
  const result = spawnSync('npx', ['electron-vite', 'build'], { cwd: repoRoot, encoding: 'utf8' });
  if (result.status !== 0) {
    throw new Error(`electron-vite build failed:\n${result.stdout}\n${result.stderr}`);
  }
}

export interface ServeHandle {
  url: string;
  home: string;
  child: ChildProcess;
  stderr: () => string;
  stop(): Promise<void>;
}

/** Starts the serve CLI with its own data folder and waits for its URL line. */
export async function startServe(extraEnv: Record<string, string> = {}): Promise<ServeHandle> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'sgnas-e2e-'));
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(repoRoot, 'main', 'cli', 'serve.ts'), '--port', '0'],
    {
      cwd: repoRoot,
      env: {
        ...process.env,
        SGNAS_HOME: home,
        SGNAS_DB: path.join(home, 'registry.db'),
        ...extraEnv,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));

  const url = await new Promise<string>((resolve, reject) => {
    let stdout = '';
    const fail = () => reject(new Error(`serve printed no URL in 60 s:\n${stderr}`));
    const timer = setTimeout(fail, 60_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const line = stdout.split('\n')[0];
      if (stdout.includes('\n')) {
        clearTimeout(timer);
        resolve(line.trim());
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code} before printing its URL:\n${stderr}`));
    });
  });

  return {
    url,
    home,
    child,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      fs.rmSync(home, { recursive: true, force: true });
    },
  };
}

/** A headless Chromium with a new, empty profile that is removed on close. */
export async function launchBrowser(): Promise<{
  context: BrowserContext;
  close(): Promise<void>;
}> {
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sgnas-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: findChromium(),
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  return {
    context,
    async close() {
      await context.close();
      fs.rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

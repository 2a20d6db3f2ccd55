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
export function chromiumCandidates(): string[] {
  return [
    process.env.SGNAS_CHROMIUM,
    '/usr/bin/chromium',
    '/usr/bin/chromium-browser',
    chromium.executablePath(),
  ].filter((c): c is string => typeof c === 'string' && c.length > 0);
}

/**
 * The first Chromium that exists among the candidates. Never downloads one.
 *
 * @throws Error saying exactly what to install when none exists, so the
 *   browser tests fail with the fix rather than a launch error.
 */
export function findChromium(candidates: readonly string[] = chromiumCandidates()): string {
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

/** What the built renderer is made from: its folder and the main files it imports. */
const RENDERER_SOURCES = [
  'renderer',
  path.join('main', 'api'),
  path.join('main', 'engine', 'pipeline', 'config.ts'),
  path.join('main', 'engine', 'space', 'types.ts'),
];

/** The newest modification time (ms) of a file or of any file below a folder. */
function newestMtime(target: string): number {
  if (!fs.existsSync(target)) return 0;
  const stat = fs.statSync(target);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return fs
    .readdirSync(target)
    .reduce((newest, name) => Math.max(newest, newestMtime(path.join(target, name))), 0);
}

/** Whether out/renderer is missing or older than a source it is built from. */
function rendererIsStale(): boolean {
  const index = path.join(repoRoot, 'out', 'renderer', 'index.html');
  if (!fs.existsSync(index)) return true;
  const built = fs.statSync(index).mtimeMs;
  return RENDERER_SOURCES.some((s) => newestMtime(path.join(repoRoot, s)) > built);
}

/** Whether a build lock was left by a process that no longer exists. */
function lockHolderIsGone(lock: string): boolean {
  let pid: number;
  try {
    pid = Number(fs.readFileSync(path.join(lock, 'pid'), 'utf8'));
  } catch {
    return false; // just created (the pid comes next) or just released
  }
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/**
 * Builds out/ with electron-vite when the renderer is missing or older than
 * its sources (`npm test` builds first, so this matters when one test file
 * is run alone after an edit). Test files run in parallel: a lock folder
 * makes one build while the others wait, then find the build fresh.
 */
export async function ensureBuilt(): Promise<void> {
  const lock = path.join(repoRoot, 'out', '.e2e-build-lock');
  fs.mkdirSync(path.dirname(lock), { recursive: true });
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      fs.mkdirSync(lock);
      fs.writeFileSync(path.join(lock, 'pid'), String(process.pid));
      break;
    } catch {
      if (lockHolderIsGone(lock)) {
        fs.rmSync(lock, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) {
        throw new Error(`waited 180 s for ${lock}; if no build is running, delete it`);
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  try {
    if (!rendererIsStale()) return;
    const result = spawnSync('npx', ['electron-vite', 'build'], {
      cwd: repoRoot,
      encoding: 'utf8',
    });
    if (result.status !== 0) {
      throw new Error(`electron-vite build failed:\n${result.stdout}\n${result.stderr}`);
    }
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
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

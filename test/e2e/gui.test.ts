/**
 * The GUI in Debian's Chromium against `main/cli/serve.ts`: the page loads
 * with its token, talks only to its own origin, and the Runs view renders.
 */
import fs from 'node:fs';
import path from 'node:path';

import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ensureBuilt, launchBrowser, repoRoot, startServe, type ServeHandle } from './browser.js';

const shots = path.join(repoRoot, 'test-results', 'e2e');

let serve: ServeHandle;
let browser: { context: BrowserContext; close(): Promise<void> };
let page: Page;
const problems: string[] = [];

beforeAll(async () => {
  await ensureBuilt();
  fs.mkdirSync(shots, { recursive: true });
  serve = await startServe();
  browser = await launchBrowser();
  page = browser.context.pages()[0] ?? (await browser.context.newPage());
  // Console errors include CSP violations ("Refused to ...") and failed requests.
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(e.message));
  page.on('request', (r) => {
    if (!r.url().startsWith(new URL(serve.url).origin) && !r.url().startsWith('blob:')) {
      problems.push(`request to another origin: ${r.url()}`);
    }
  });
});

afterAll(async () => {
  await browser?.close();
  await serve?.stop();
});

describe('workbench in a browser', () => {
  it('prints one URL with a token on 127.0.0.1', () => {
    expect(serve.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{40,}$/);
  });

  it('renders the Runs view from the serve host, with no console errors', async () => {
    await page.goto(serve.url);
    await page.waitForSelector('.runs-view h2');

    expect(await page.textContent('.runs-view h2')).toBe('Runs');
    expect(await page.locator('.runs-table thead th').count()).toBeGreaterThanOrEqual(8);
    // A fresh registry: the empty-state row, not an error.
    await page.waitForSelector('.runs-table .empty');
    expect(await page.locator('.call-error').count()).toBe(0);
    await page.screenshot({ path: path.join(shots, 'runs.png') });
    expect(problems.filter((p) => !p.includes('favicon'))).toEqual([]);
  });

  it('shows what to do when the page is opened without its token', async () => {
    await page.goto(new URL(serve.url).origin + '/');
    await page.waitForFunction(() => document.body.textContent?.includes('access token'));
    const text = await page.textContent('#app');
    expect(text).toMatch(/open the full URL that `npm run serve` printed/);
  });
});

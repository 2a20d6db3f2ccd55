/**
 * The Experiments view in Debian's Chromium against `main/cli/serve.ts`,
 * with a registry of its own: a tiny search is trained through the API, then
 * a small random-search baseline is launched from the Experiments form on
 * it. The run's page must show progress, then charts whose data are exactly
 * what `experimentResult` returns; an invalid field must be explained and
 * launch nothing.
 */
import fs from 'node:fs';
import path from 'node:path';

import type { BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { TINY_SEARCH } from '../helpers/tinySearch.js';
import { ensureBuilt, launchBrowser, repoRoot, startServe, type ServeHandle } from './browser.js';

const shots = path.join(repoRoot, 'test-results', 'e2e');

/** The baseline launched from the form: a few scores per budget, on few images. */
const BASELINE_FIELDS: Record<string, number> = {
  budgets: 2,
  samples: 3,
  seed: 4,
  validationImages: 20,
  recalBatches: 1,
  recalBatchSize: 16,
};

let serve: ServeHandle;
let browser: { context: BrowserContext; close(): Promise<void> };
let page: Page;
const problems: string[] = [];

/** The completed tiny search every test uses, set by beforeAll. */
let searchRunId = '';

/** Calls the served API directly, as any HTTP client would; throws on a refusal. */
async function api<T>(name: string, payload: unknown): Promise<T> {
  const url = new URL(serve.url);
  const response = await fetch(`${url.origin}/api/${name}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json',
      Authorization: `Bearer ${url.searchParams.get('token')}` },
    body: JSON.stringify(payload),
  });
  const body = (await response.json()) as { ok: boolean; value?: T; error?: unknown };
  if (!body.ok) {
    throw new Error(`${name} answered ${response.status}: ${JSON.stringify(body.error)}`);
  }
  return body.value as T;
}

/** Polls a run until it ends; returns its final status and error. */
async function waitForEnd(runId: string, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const run = await api<{ status: string; error: string | null }>('getRun', { runId });
    if (['completed', 'failed', 'cancelled', 'interrupted'].includes(run.status)) return run;
    if (Date.now() > deadline) throw new Error(`run ${runId} still ${run.status} after ` +
      `${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** The tiny search of test/helpers laid over the fmnist preset's full default config. */
async function tinySearchConfig(): Promise<Record<string, unknown>> {
  const presets = await api<{ name: string; defaultConfig: Record<string, any> }[]>(
    'listPresets', {});
  const base = presets.find((p) => p.name === 'fmnist')!.defaultConfig;
  return {
    ...base,
    ...TINY_SEARCH,
    supernet: { ...base.supernet, ...TINY_SEARCH.supernet },
    generator: { ...base.generator, ...TINY_SEARCH.generator },
  };
}

/** Clicks a chart panel's CSV button; returns its rows (header first). */
async function downloadCsv(panel: Locator, saveAs: string): Promise<string[][]> {
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    panel.getByRole('button', { name: 'CSV' }).click(),
  ]);
  const file = path.join(shots, saveAs);
  await download.saveAs(file);
  // The fixture's cells hold no commas or quotes except the architecture,
  // which is last and never quoted (it has only digits, dashes and spaces).
  return fs.readFileSync(file, 'utf8').trim().split('\r\n').map((line) => line.split(','));
}

beforeAll(async () => {
  await ensureBuilt();
  fs.mkdirSync(shots, { recursive: true });
  serve = await startServe();
  browser = await launchBrowser();
  page = browser.context.pages()[0] ?? (await browser.context.newPage());
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(e.message));

  // The experiments need a trained supernet: a tiny search (about 30 s alone).
  const { runId } = await api<{ runId: string }>('startSearch',
    { config: await tinySearchConfig() });
  const run = await waitForEnd(runId, 360_000);
  if (run.status !== 'completed') {
    throw new Error(`the tiny search ${runId} ended ${run.status}: ${run.error}`);
  }
  searchRunId = runId;
}, 420_000);

afterAll(async () => {
  await browser?.close();
  await serve?.stop();
});

/** Opens the Experiments view on a kind with the tiny search as its source. */
async function openForm(kind: string): Promise<void> {
  await page.goto(serve.url);
  await page.click('[data-tab="experiments"]');
  await page.waitForSelector('.experiment-form');
  await page.selectOption('select[name="kind"]', kind);
  // The source picker lists the completed search once listRuns has answered.
  await page.waitForSelector(`select[name="sourceRunId"] option[value="${searchRunId}"]`,
    { state: 'attached' });
  await page.selectOption('select[name="sourceRunId"]', searchRunId);
}

describe('experiments in a browser', () => {
  it('explains an invalid field beside it and launches nothing', async () => {
    await openForm('baseline-random');
    await page.fill('input[name="samples"]', '0');

    const error = page.locator('.field[data-field="samples"] .field-error');
    await expect.poll(() => error.textContent()).toMatch(/whole number between 1 and 100,000/);
    expect(await page.locator('button[name="launch-experiment"]').isDisabled()).toBe(true);

    // Enter submits the form as a user would; the store must refuse to send it.
    await page.press('input[name="samples"]', 'Enter');
    await page.waitForTimeout(1000);
    expect(await api<unknown[]>('listRuns', { kind: 'baseline-random' })).toEqual([]);
    expect(await page.evaluate(() => location.hash)).toBe('#/experiments');
  });

  const runTimeout = { timeout: 300_000 };
  it('launches a baseline from the form and charts exactly what experimentResult returns',
    runTimeout, async () => {
      await openForm('baseline-random');
      for (const [field, value] of Object.entries(BASELINE_FIELDS)) {
        await page.fill(`input[name="${field}"]`, String(value));
      }
      const launch = page.locator('button[name="launch-experiment"]');
      await expect.poll(() => launch.isEnabled()).toBe(true);
      await launch.click();

      await page.waitForFunction(() => location.hash.startsWith('#/run/'));
      const runId = decodeURIComponent(
        (await page.evaluate(() => location.hash)).slice('#/run/'.length));
      await page.waitForSelector('.run-detail-view .progress');

      // The run was registered as typed into the form.
      const detail = await api<{ kind: string; config: Record<string, unknown> }>('getRun',
        { runId });
      expect(detail.kind).toBe('baseline-random');

      const ended = await waitForEnd(runId, 240_000);
      expect(ended.status, `the baseline ended: ${ended.error}`).toBe('completed');

      const { kind, result } = await api<{ kind: string; result: {
        method: string;
        budgets: { targetM: number; flopsM: number; accuracy: number; evaluations: number }[];
      } }>('experimentResult', { runId });
      expect(kind).toBe('baseline-random');
      expect(result.method).toBe('random');
      expect(result.budgets).toHaveLength(BASELINE_FIELDS.budgets);

      // The page learns of the end by its status event and fetches the results.
      const panel = page.locator('.chart-panel[data-chart="found-flops-per-budget"]');
      await panel.locator('canvas').first().waitFor({ timeout: 30_000 });
      await page.screenshot({ path: path.join(shots, 'experiment-baseline.png'),
        fullPage: true });

      const rows = await downloadCsv(panel, 'experiment-baseline.csv');
      expect(rows[0].slice(0, 5))
        .toEqual(['method', 'target_mflops', 'found_mflops', 'accuracy', 'evaluations']);
      expect(rows.slice(1).map((r) => r.slice(0, 5).map((c, i) => (i === 0 ? c : Number(c)))))
        .toEqual(result.budgets.map((b) => ['random', b.targetM, b.flopsM, b.accuracy,
          b.evaluations]));
      // A random-search pick never breaks its budget.
      for (const b of result.budgets) expect(b.flopsM).toBeLessThanOrEqual(b.targetM);

      expect(problems).toEqual([]);
    });
});

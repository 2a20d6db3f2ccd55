/**
 * The workbench's main workflow in Debian's Chromium against
 * `main/cli/serve.ts`, with a registry of its own: launch a tiny search from
 * the New search form, watch it progress and complete, open its Kendall-tau
 * plot, compare two of its architectures, drive the Generate slider with its
 * generator, and explain invalid settings before launch.
 *
 * One tiny search (about 30 s here) serves every check that needs a finished
 * run, so the tests run in order and share it. Screenshots land in
 * test-results/e2e/ and are decoded to check that the charts were drawn.
 */
import fs from 'node:fs';
import path from 'node:path';

import type { BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { REFERENCE_COLOR, seriesColor } from '../../renderer/src/charts/palette.js';
import { niceBounds, POINT_OPACITY } from '../../renderer/src/charts/tau.js';
import { ensureBuilt, launchBrowser, repoRoot, startServe, type ServeHandle } from './browser.js';
import {
  countColour,
  crop,
  distinctColours,
  over,
  overWhite,
  readPng,
  type Margins,
  type RgbaImage,
} from './png.js';

const shots = path.join(repoRoot, 'test-results', 'e2e');

/**
 * Settings small enough for a whole search in well under a minute on two
 * busy cores, keyed by their form field names (= their config paths).
 */
const TINY: Record<string, number> = {
  'supernet.trainSubset': 128,
  'supernet.batchSize': 32,
  'supernet.epochs': 2,
  'generator.epochs': 2,
  'generator.stepsPerEpoch': 2,
  'generator.targetsPerStep': 4,
  'generator.validationBatch': 16,
  validationPerClass: 5,
  sweepBudgets: 4,
  recalibrationBatches: 1,
};

/** The plot areas of the charts (their option's grid), in CSS pixels. */
const TAU_GRID: Margins = { top: 76, right: 30, bottom: 100, left: 70 };
const CURVES_GRID: Margins = { top: 70, right: 24, bottom: 70, left: 60 };
const LAYER_COST_GRID: Margins = { top: 70, right: 20, bottom: 50, left: 90 };

/** What `results/summary.json` of a finished search holds (the fields used here). */
interface SearchSummary {
  tau: number;
  tauP: number | null;
  pearson: number;
  n: number;
  architectures: { targetM: number; flopsM: number; text: string }[];
}

let serve: ServeHandle;
let browser: { context: BrowserContext; close(): Promise<void> };
let page: Page;
const problems: string[] = [];

/** Set by the launch test; the later tests use this run. */
let runId: string | null = null;
let summary: SearchSummary | null = null;

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
});

afterAll(async () => {
  await browser?.close();
  await serve?.stop();
});

/** Calls the served API directly, as any HTTP client would. */
async function api(name: string, body: string): Promise<{ status: number; json: any }> {
  const token = new URL(serve.url).searchParams.get('token');
  const response = await fetch(`${new URL(serve.url).origin}/api/${name}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
    body,
  });
  return { status: response.status, json: await response.json() };
}

/** A value of a nested object by its dotted path. */
function valueAt(object: unknown, dotted: string): unknown {
  return dotted.split('.').reduce<any>((o, key) => (o === undefined ? o : o[key]), object);
}

/** The run the launch test started and saw complete, or a clear failure. */
function finishedRun(): { runId: string; summary: SearchSummary } {
  if (!runId || !summary) {
    throw new Error('the tiny search of the first tests did not complete; see their failure');
  }
  return { runId, summary };
}

/** Goes to a view by its hash route, as the app's own links do. */
async function goTo(hash: string): Promise<void> {
  await page.evaluate((h) => (location.hash = h), hash);
}

/** Parses RFC 4180 CSV (quoted cells may hold commas). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') cell += text[++i];
      else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\n') {
      rows.push([...row, cell.replace(/\r$/, '')]);
      row = [];
      cell = '';
    } else cell += c;
  }
  return rows;
}

/** Clicks a chart panel's CSV button and returns the downloaded rows (header first). */
async function downloadCsv(panel: Locator, saveAs: string): Promise<string[][]> {
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    panel.getByRole('button', { name: 'CSV' }).click(),
  ]);
  await download.saveAs(path.join(shots, saveAs));
  return parseCsv(fs.readFileSync(path.join(shots, saveAs), 'utf8'));
}

/** Screenshots a chart panel's drawing area to test-results/e2e and decodes it. */
async function shootChart(panel: Locator, name: string): Promise<RgbaImage> {
  const file = path.join(shots, name);
  const box = panel.locator('.chart-box');
  await box.locator('canvas').first().waitFor();
  await box.screenshot({ path: file });

  const image = readPng(file);
  const size = await box.boundingBox();
  // The decoder read the file right: the image is the element, pixel for pixel.
  // (A box at a fractional position takes one pixel more.)
  expect(Math.abs(image.width - size!.width)).toBeLessThanOrEqual(1);
  expect(Math.abs(image.height - size!.height)).toBeLessThanOrEqual(1);
  return image;
}

/**
 * Asserts each point is drawn where a scatter of the tau plot puts it: the
 * pixels at the point's position (axes from niceBounds over all values,
 * grid margins from the option) have the series colour, as its opacity
 * shows it over the white background.
 */
function expectPointsDrawn(
  image: RgbaImage,
  points: readonly { targetM: number; flopsM: number }[],
  seriesColour: string,
): void {
  const colour = overWhite(seriesColour, POINT_OPACITY);
  // A point on target lies on the dashed y = x line, which shows through it.
  const colourOnLine = over(seriesColour, POINT_OPACITY, REFERENCE_COLOR);
  const [lo, hi] = niceBounds(points.flatMap((p) => [p.targetM, p.flopsM]));
  const plotWidth = image.width - TAU_GRID.left - TAU_GRID.right;
  const plotHeight = image.height - TAU_GRID.top - TAU_GRID.bottom;

  for (const p of points) {
    const x = Math.round(TAU_GRID.left + ((p.targetM - lo) / (hi - lo)) * plotWidth);
    const y = Math.round(TAU_GRID.top + ((hi - p.flopsM) / (hi - lo)) * plotHeight);
    // A 5x5 patch around the centre: the symbol (9 px) covers it whatever the
    // rounding. Where the line crosses it, its anti-aliased edge pixels match
    // neither colour, so 15 of 25 is the bar; a point drawn elsewhere gives ~0.
    const patch = crop(image, {
      top: y - 2,
      left: x - 2,
      right: image.width - x - 3,
      bottom: image.height - y - 3,
    });
    const drawn = countColour(patch, colour) + countColour(patch, colourOnLine);
    expect(drawn, `point (${p.targetM}, ${p.flopsM}) at ${x},${y}`).toBeGreaterThanOrEqual(15);
  }
}

describe('the workbench workflow in a browser', () => {
  it('launches a tiny fmnist search from the New search form as typed', async () => {
    await page.goto(serve.url);
    await page.click('[data-tab="new"]');
    await page.waitForSelector('.search-form');
    await page.selectOption('select[name="preset"]', 'fmnist');

    for (const [field, value] of Object.entries(TINY)) {
      await page.fill(`input[name="${field}"]`, String(value));
    }

    // The form shows the configuration it will launch: every typed value is in it.
    const preview = JSON.parse((await page.textContent('.config-preview pre')) ?? '{}');
    for (const [field, value] of Object.entries(TINY)) {
      expect(valueAt(preview, field), field).toBe(value);
    }
    expect(preview.preset).toBe('fmnist');

    await page.waitForSelector('.check .ok');
    const launch = page.locator('button[name="launch"]');
    await expect.poll(() => launch.isEnabled()).toBe(true);
    await launch.click();
    await page.waitForFunction(() => location.hash.startsWith('#/run/'));
    runId = decodeURIComponent((await page.evaluate(() => location.hash)).slice('#/run/'.length));

    // The run was registered with exactly the form's configuration.
    const stored = await api('getRun', JSON.stringify({ runId }));
    expect(stored.status).toBe(200);
    for (const [field, value] of Object.entries(TINY)) {
      expect(valueAt(stored.json.value.config, field), field).toBe(value);
    }
  });

  // The search takes ~30 s alone; give it room on a machine busy with other tests.
  const searchTimeout = { timeout: 360_000 };
  it('updates the progress bar live as the search runs, then shows it completed', searchTimeout,
    async () => {
    expect(runId, 'the launch test must have started a run').not.toBeNull();
    await page.waitForSelector('.run-detail-view .progress');
    const seen: { status: string; percent: number; text: string }[] = [];
    const deadline = Date.now() + 300_000;

    // Sample the bar as a user would watch it, until the run ends; one
    // evaluate per sample, so status, value and text belong together.
    for (;;) {
      const now = await page.evaluate(() => {
        const bar = document.querySelector('.run-detail-view .progress');
        const status = document.querySelector('.run-detail-view h2 .status');
        return {
          status: status?.textContent?.trim() ?? '',
          percent: Number(bar?.getAttribute('aria-valuenow')),
          text: bar?.textContent?.replace(/\s+/g, ' ').trim() ?? '',
        };
      });
      const last = seen[seen.length - 1];
      if (!last || last.text !== now.text || last.status !== now.status) seen.push(now);
      if (['completed', 'failed', 'cancelled', 'interrupted'].includes(now.status)) break;
      if (Date.now() > deadline) throw new Error(`no end in 300 s: ${JSON.stringify(seen)}`);
      await page.waitForTimeout(100);
    }
    fs.writeFileSync(path.join(shots, 'progress-samples.json'), JSON.stringify(seen, null, 2));

    const error = await page.locator('.run-detail-view .call-error').allTextContents();
    expect(seen[seen.length - 1].status, `the run ended: ${error.join(' ')}`).toBe('completed');

    // Live updates come from progress events (label "stage epoch e/E, step s/S"),
    // which only a running run sends: at least three distinct states, so the
    // bar changed at least twice, with an ETA, and never went backwards.
    const live = seen.filter((s) => s.status === 'running' && /epoch \d+\/\d+/.test(s.text));
    expect(live.length, JSON.stringify(seen)).toBeGreaterThanOrEqual(3);
    expect(live.some((s) => /ETA \d/.test(s.text))).toBe(true);
    const percents = seen.map((s) => s.percent);
    expect(percents).toEqual([...percents].sort((a, b) => a - b));
    expect(percents[percents.length - 1]).toBe(100);

    const folder = path.join(serve.home, 'runs', runId!);
    summary = JSON.parse(fs.readFileSync(path.join(folder, 'results', 'summary.json'), 'utf8'));
  });

  it('lists the finished run in the Runs table with its status, tau and budgets', async () => {
    const { runId, summary } = finishedRun();
    await page.click('[data-tab="runs"]');
    const row = page.locator(`.runs-table tr[data-run-id="${runId}"]`);
    await expect.poll(() => row.getAttribute('data-status')).toBe('completed');
    const cells = (await row.locator('td').allTextContents()).map((t) => t.trim());
    expect(cells).toEqual(expect.arrayContaining([
      'completed',
      summary.tau.toFixed(3),
      '0.85–1.5', // fmnist's default constraint interval
    ]));
    expect(cells.some((c) => /100%/.test(c))).toBe(true);
    await page.screenshot({ path: path.join(shots, 'runs-finished.png'), fullPage: true });
    await goTo(`#/run/${encodeURIComponent(runId)}`);
    await page.waitForSelector('.run-detail-view .archs tr[data-arch-id]');
  });

  it('draws the finished run\'s loss and accuracy curves', async () => {
    finishedRun();
    const loss = page.locator('.chart-panel[data-chart="loss"]');
    const accuracy = page.locator('.chart-panel[data-chart="accuracy"]');
    // Both stages logged a loss; the curves are in the CSV the chart exports.
    await expect.poll(async () => {
      const rows = await downloadCsv(loss, 'run-curves.csv');
      return [...new Set(rows.slice(1).map((r) => `${r[0]}/${r[1]}`))].sort();
    }, { timeout: 10_000 }).toEqual(expect.arrayContaining(['generator/loss', 'supernet/loss']));

    await page.screenshot({ path: path.join(shots, 'run-detail.png'), fullPage: true });
    const lossPlot = crop(await shootChart(loss, 'run-loss.png'), CURVES_GRID);
    const accuracyPlot = crop(await shootChart(accuracy, 'run-accuracy.png'), CURVES_GRID);

    // Inside the plot area (no legend swatches there) each line's colour appears
    // along its length: dozens of pixels, not the handful of an axis tick.
    expect(countColour(lossPlot, seriesColor(0))).toBeGreaterThan(150);
    expect(countColour(lossPlot, seriesColor(1))).toBeGreaterThan(50);
    expect(countColour(accuracyPlot, seriesColor(0))).toBeGreaterThan(150);
    expect(distinctColours(lossPlot)).toBeGreaterThan(20);
  });

  it('opens the run\'s tau plot with the tau, Pearson and n of its summary.json', async () => {
    const { summary } = finishedRun();
    await page.locator('.run-detail-view .actions').getByRole('button', { name: 'Tau plot' })
      .click();
    await page.waitForSelector('.tau-view .tau-stats li');

    const p = summary.tauP === null ? '–'
      : summary.tauP < 1e-3 ? summary.tauP.toExponential(1) : summary.tauP.toFixed(3);
    const stats = await page.textContent('.tau-view .tau-stats li');
    expect(stats).toContain(
      `tau ${summary.tau.toFixed(3)}, Pearson ${summary.pearson.toFixed(3)}, ` +
        `n ${summary.n}, p ${p}`,
    );

    // The plotted points, as the chart exports them, are the sweep's.
    const panel = page.locator('.tau-view .chart-panel');
    const rows = (await downloadCsv(panel, 'tau-plot.csv')).slice(1);
    const plotted = rows.map((r) => ({ targetM: Number(r[1]), flopsM: Number(r[2]) }));
    const expected = summary.architectures.map((a) => ({ targetM: a.targetM, flopsM: a.flopsM }));
    const byTarget = (a: { targetM: number }, b: { targetM: number }) => a.targetM - b.targetM;
    expect(plotted.sort(byTarget)).toEqual(expected.sort(byTarget));
    expect(plotted).toHaveLength(summary.n);

    const image = await shootChart(panel, 'tau-plot.png');
    await page.screenshot({ path: path.join(shots, 'tau-view.png'), fullPage: true });
    expectPointsDrawn(image, expected, seriesColor(0));
    // The dashed y = x line crosses the whole plot: hundreds of grey pixels.
    expect(countColour(crop(image, TAU_GRID), REFERENCE_COLOR)).toBeGreaterThan(300);
  });

  it('compares two of the run\'s architectures, differing layers highlighted', async () => {
    const { runId } = finishedRun();
    await goTo(`#/run/${encodeURIComponent(runId)}`);
    await page.waitForSelector('.run-detail-view .archs tr[data-arch-id]');
    const archs = await page.$$eval('.run-detail-view .archs tr[data-arch-id]', (rows) =>
      rows.map((r) => ({
        id: r.getAttribute('data-arch-id')!,
        compact: r.querySelector('code')!.textContent!.trim(),
        flops: r.children[2].textContent!.trim(),
      })),
    );
    const first = archs[0];
    const second = archs.find((a) => a.compact !== first.compact);
    expect(second, `two different architectures among ${JSON.stringify(archs)}`).toBeDefined();

    const tokens = [first, second!].map((a) => a.compact.split(/\s+/));
    const expectedDiffering = tokens[0].flatMap((t, l) => (t !== tokens[1][l] ? [String(l)] : []));
    expect(expectedDiffering.length).toBeGreaterThan(0);

    for (const arch of [first, second!]) {
      await goTo(`#/run/${encodeURIComponent(runId)}`);
      await page.locator(`.archs tr[data-arch-id="${arch.id}"]`)
        .getByRole('button', { name: 'Compare' }).click();
      await page.waitForSelector('.compare-view');
    }
    await expect.poll(() => page.locator('.compare-item .arch-grid').count()).toBe(2);

    const items = page.locator('.compare-item');
    for (const [i, arch] of [first, second!].entries()) {
      const item = items.nth(i);
      expect(await item.locator('.totals').textContent()).toContain(`${arch.flops} MFLOPs`);
      const marked = await item.locator('tr.differs').evaluateAll((rows) =>
        rows.map((r) => [r.getAttribute('data-layer'), getComputedStyle(r).backgroundColor]),
      );
      // Exactly the layers whose tokens differ are marked, and the mark is visible.
      expect(marked.map(([layer]) => layer)).toEqual(expectedDiffering);
      for (const [, colour] of marked) expect(colour).toBe('rgb(255, 248, 197)');
      const plain = item.locator('tbody tr:not(.differs)').first();
      if ((await plain.count()) > 0) {
        expect(await plain.evaluate((r) => getComputedStyle(r).backgroundColor))
          .not.toBe('rgb(255, 248, 197)');
      }
    }
    const layersText = expectedDiffering.map((l) => Number(l) + 1).join(', ');
    expect(await page.textContent('.compare-view .differing'))
      .toContain(`${expectedDiffering.length} layer(s) differ: ${layersText}`);

    await page.screenshot({ path: path.join(shots, 'compare.png'), fullPage: true });
    const bars = crop(
      await shootChart(page.locator('.compare-view .chart-panel'), 'compare-layer-cost.png'),
      LAYER_COST_GRID,
    );
    // One bar colour per architecture, in both the FLOPs and the parameter grid.
    expect(countColour(bars, seriesColor(0))).toBeGreaterThan(200);
    expect(countColour(bars, seriesColor(1))).toBeGreaterThan(200);
  });

  it('generates with the run\'s generator as the budget slider moves, and a sweep in one click',
    async () => {
      const { runId, summary } = finishedRun();
      await goTo('#/generate');
      await page.waitForSelector('select[name="generator"]');
      await page.selectOption('select[name="generator"]', `run:${runId}`);
      const slider = page.locator('input[name="budget"]');
      // The slider moves in positions; its ends are the generator's constraint interval.
      const low = Number(await slider.getAttribute('data-low-m'));
      const high = Number(await slider.getAttribute('data-high-m'));
      expect([low, high]).toEqual([0.85, 1.5]); // fmnist's default constraint

      /** Moves the slider with a key and waits until that budget's architecture is shown. */
      async function slideTo(key: string, budgetM: number) {
        await slider.press(key);
        await expect.poll(() => page.textContent('.budget-value')).toBe(budgetM.toFixed(3));
        await expect.poll(() => page.locator('.generate-view .call-loading').count()).toBe(0);
        const compact = ((await page.textContent('.generated-arch')) ?? '').trim();
        const flops = Number(await page.textContent('.generated-flops'));
        // The grid below shows the same architecture, resolved layer by layer:
        // its total (4 decimals) rounds to the 3 shown beside the architecture.
        const total = page.locator('.generate-view .arch-grid tr.total td').nth(1);
        await expect.poll(async () => Number(await total.textContent()).toFixed(3))
          .toBe(flops.toFixed(3));
        return { compact, flops };
      }

      const atLow = await slideTo('Home', low);
      await page.screenshot({ path: path.join(shots, 'generate-low.png'), fullPage: true });
      const atHigh = await slideTo('End', high);
      await page.screenshot({ path: path.join(shots, 'generate-high.png'), fullPage: true });

      // The generator follows the budget: another architecture, more FLOPs.
      expect(atHigh.compact).not.toBe(atLow.compact);
      expect(atHigh.flops).toBeGreaterThan(atLow.flops);
      // The same generator produced the run's sweep, whose ends are these budgets.
      const sweepAt = (t: number) =>
        summary.architectures.find((a) => Math.abs(a.targetM - t) < 1e-9);
      expect(atLow.compact).toBe(sweepAt(low)!.text);
      expect(atHigh.compact).toBe(sweepAt(high)!.text);
      expect(atLow.flops.toFixed(3)).toBe(sweepAt(low)!.flopsM.toFixed(3));
      expect(atHigh.flops.toFixed(3)).toBe(sweepAt(high)!.flopsM.toFixed(3));

      // A whole sweep is one request for every budget.
      let generateCalls = 0;
      const count = (r: { url(): string }) => {
        if (r.url().includes('/api/generate')) generateCalls++;
      };
      page.on('request', count);
      await page.fill('input[name="sweepCount"]', '12');
      await page.click('button[name="sweep"]');
      await page.waitForSelector('.sweep-stats');
      page.off('request', count);
      expect(generateCalls).toBe(1);
      expect(await page.textContent('.sweep-stats')).toMatch(/tau -?\d\.\d{3}, .*n 12,/);

      const panel = page.locator('.generate-view .chart-panel');
      const rows = (await downloadCsv(panel, 'generate-sweep.csv')).slice(1);
      expect(rows).toHaveLength(12);
      const points = rows.map((r) => ({ targetM: Number(r[1]), flopsM: Number(r[2]) }));
      expect(points[0].targetM).toBeCloseTo(low, 9);
      expect(points[11].targetM).toBeCloseTo(high, 9);
      expectPointsDrawn(await shootChart(panel, 'generate-sweep.png'), points, seriesColor(0));
      await page.screenshot({ path: path.join(shots, 'generate.png'), fullPage: true });
    });

  it('shows FS and SBN toggles in a new run\'s config; explains invalid settings before launch',
    async () => {
      finishedRun();
      await goTo('#/new');
      await page.waitForSelector('.search-form');
      const preview = async () => JSON.parse((await page.textContent('.config-preview pre'))!);
      const launch = page.locator('button[name="launch"]');
      expect(await preview()).toMatchObject({ forcedSampling: true, shadowBatchNorm: true });

      await page.uncheck('input[name="forcedSampling"]');
      expect(await preview()).toMatchObject({ forcedSampling: false, shadowBatchNorm: true });
      await page.uncheck('input[name="shadowBatchNorm"]');
      expect(await preview()).toMatchObject({ forcedSampling: false, shadowBatchNorm: false });
      await page.waitForSelector('.check .ok');
      await expect.poll(() => launch.isEnabled()).toBe(true);

      // A budget the space cannot reach: the service explains it at the field.
      await page.fill('input[name="constraint.highM"]', '5');
      const problem = page.locator('.check .problems li', { hasText: 'constraint' });
      await expect.poll(() => problem.textContent(), { timeout: 10_000 })
        .toMatch(/budget interval 0\.85\.\.5 MFLOPs must lie inside what .* can reach/);
      expect(await page.locator('.search-form .field-error', { hasText: 'must lie inside' })
        .count()).toBe(1);
      expect(await launch.isDisabled()).toBe(true);

      // A value the schema refuses: explained at once, next to its field.
      await page.fill('input[name="supernet.epochs"]', '0');
      await expect.poll(() =>
        page.locator('.check .problems li', { hasText: 'supernet.epochs' }).count()).toBe(1);
      expect(await page.getAttribute('input[name="supernet.epochs"]', 'aria-invalid'))
        .toBe('true');
      // Nothing is left "checking": the schema's explanation is the verdict.
      await expect.poll(() => page.locator('.check .call-loading').count()).toBe(0);
      await page.screenshot({ path: path.join(shots, 'new-search-invalid.png'), fullPage: true });

      // Submitting anyway (Enter in a field) launches nothing.
      await page.press('input[name="supernet.epochs"]', 'Enter');
      await page.waitForTimeout(500);
      expect((await api('listRuns', '{}')).json.value).toHaveLength(1);
      expect(await launch.isDisabled()).toBe(true);

      await page.fill('input[name="supernet.epochs"]', '2');
      await page.fill('input[name="constraint.highM"]', '1.5');
      await page.waitForSelector('.check .ok');
      await expect.poll(() => launch.isEnabled()).toBe(true);
    });

  it('refuses an API call with a malformed payload over HTTP, naming the field', async () => {
    const before = (await api('listRuns', '{}')).json.value.length;

    const missing = await api('startSearch', JSON.stringify({ config: { preset: 'fmnist' } }));
    expect(missing.status).toBe(400);
    expect(missing.json.error.code).toBe('invalid-payload');
    expect(missing.json.error.message).toMatch(/^startSearch: invalid payload: .*config\.seed: /);

    const presets = (await api('listPresets', '{}')).json.value as { name: string }[];
    const fmnist = (presets as any[]).find((p) => p.name === 'fmnist').defaultConfig;
    const wrongType = { ...fmnist, supernet: { ...fmnist.supernet, epochs: 'two' } };
    const typed = await api('startSearch', JSON.stringify({ config: wrongType }));
    expect(typed.status).toBe(400);
    expect(typed.json.error.message).toMatch(/config\.supernet\.epochs: .*expected number/);

    const extra = await api('getRun', JSON.stringify({ runId: 'x', path: '/etc/passwd' }));
    expect(extra.status).toBe(400);
    expect(extra.json.error.message).toMatch(/getRun: invalid payload: .*path/);

    expect((await api('listRuns', '{}')).json.value).toHaveLength(before);
  });

  it('logged no console error or failed request along the way', () => {
    expect(problems.filter((p) => !p.includes('favicon'))).toEqual([]);
  });
});

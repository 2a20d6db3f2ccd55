/**
 * The job runner runs a registered search in a child process: the caller's
 * thread stays free, progress streams in as events, the registry records the
 * end, and a cancel stops the run within a step with its checkpoints kept.
 */
import { readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import { parseSearchConfig } from '../main/engine/pipeline/config.js';
import { defaultSearchConfig } from '../main/engine/pipeline/defaults.js';
import { JobRunner, type JobProgress } from '../main/jobs/jobRunner.js';
import { RunRegistry } from '../main/registry/index.js';
import { tinyHome, TINY_SEARCH } from './helpers/tinySearch.js';

const env = tinyHome('sgnas-jobs-');
afterAll(() => rmSync(env.home, { recursive: true, force: true }));

function tinyConfig(overrides: Record<string, unknown> = {}) {
  const base = defaultSearchConfig('fmnist');
  return parseSearchConfig({
    ...base,
    ...TINY_SEARCH,
    supernet: { ...base.supernet, ...TINY_SEARCH.supernet },
    generator: { ...base.generator, ...TINY_SEARCH.generator },
    ...overrides,
  });
}

function waitForStatus(jobs: JobRunner, runId: string, wanted: string[]): Promise<string> {
  return new Promise((resolve) => {
    const listener = (e: { runId: string; status: string }) => {
      if (e.runId === runId && wanted.includes(e.status)) {
        jobs.off('status', listener);
        resolve(e.status);
      }
    };
    jobs.on('status', listener);
  });
}

describe('JobRunner', () => {
  it('runs a search in a child process and streams its progress', async () => {
    const registry = await RunRegistry.open(env.db);
    const jobs = new JobRunner({ registry });
    const events: JobProgress[] = [];
    jobs.on('progress', (e: JobProgress) => events.push(e));

    let ticks = 0;
    const timer = setInterval(() => ticks++, 20);
    const runId = await jobs.startSearch(tinyConfig());
    const status = await waitForStatus(jobs, runId, ['completed', 'failed']);
    clearInterval(timer);

    expect(status).toBe('completed');
    // The parent's event loop kept running while the child trained.
    expect(ticks).toBeGreaterThan(50);
    expect(events.some((e) => e.stage === 'supernet')).toBe(true);
    expect(events.some((e) => e.stage === 'generator')).toBe(true);
    const fractions = events.map((e) => e.progress);
    expect(fractions).toEqual([...fractions].sort((a, b) => a - b));

    const run = await registry.getRun(runId);
    expect(run.status).toBe('completed');
    expect(run.progress).toBe(1);
    expect(await registry.listArchitectures(runId)).toHaveLength(4);
    expect(await registry.listSweeps(runId)).toHaveLength(1);
    await registry.close();
  }, 300_000);

  it('cancels a run within a step and keeps its checkpoints', async () => {
    const registry = await RunRegistry.open(env.db);
    const jobs = new JobRunner({ registry });
    const runId = await jobs.startSearch(
      tinyConfig({ supernet: { ...tinyConfig().supernet, epochs: 6 } }),
    );

    await new Promise<void>((resolve) => {
      jobs.on('progress', (e: JobProgress) => {
        if (e.runId === runId && e.stage === 'supernet' && e.epoch === 2) resolve();
      });
    });
    const cancelled = waitForStatus(jobs, runId, ['cancelled', 'completed', 'failed']);
    await jobs.cancel(runId);
    expect(await cancelled).toBe('cancelled');

    const run = await registry.getRun(runId);
    expect(run.status).toBe('cancelled');
    const checkpoints = readdirSync(path.join(registry.runFolder(runId), 'checkpoints'));
    expect(checkpoints).toContain('supernet-epoch-0001');
    expect(checkpoints.some((c) => c.startsWith('generator'))).toBe(false);
    await registry.close();
  }, 300_000);

  it('refuses an invalid configuration before registering anything', async () => {
    const registry = await RunRegistry.open(env.db);
    const jobs = new JobRunner({ registry });
    const before = (await registry.listRuns()).length;
    await expect(
      jobs.startSearch(tinyConfig({ constraint: { lowM: 0.1, highM: 0.2 } })),
    ).rejects.toThrow(/leaves preset 'fmnist' FLOPs range/);
    expect(await registry.listRuns()).toHaveLength(before);
    await registry.close();
  });
});

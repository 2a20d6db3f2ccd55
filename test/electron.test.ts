/**
 * The Electron main-process code, tested without the Electron binary: the
 * window's security options, the CSP, the API handlers as plain functions,
 * the IPC registration with a fake ipcMain, and the service over a real
 * registry file with a fake job runner.
 */
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  API_NAMES,
  IPC_EVENT_CHANNEL,
  IPC_PREFIX,
  type WorkbenchEvent,
} from '../main/api/contract.js';
import { ApiError } from '../main/api/errors.js';
import { createHandlers, dispatch, type WorkbenchService } from '../main/api/handlers.js';
import { RegistryWorkbenchService, type JobRunnerPort } from '../main/api/service.js';
import {
  buildWindowOptions,
  CONTENT_SECURITY_POLICY,
  CONTENT_SECURITY_POLICY_HEADER,
  isAllowedNavigation,
} from '../main/electron/windowOptions.js';
import { defaultSearchConfig } from '../main/engine/pipeline/defaults.js';
import { parseArchitectureText } from '../main/engine/space/architecture.js';
import { flopsM, paramCount } from '../main/engine/space/costModel.js';
import { getPreset } from '../main/engine/space/presets.js';
import { registerIpc } from '../main/ipc.js';
import { RunRegistry } from '../main/registry/index.js';

/** A service whose every call records its payload and answers a marker. */
function recordingService() {
  const calls: { name: string; payload: unknown }[] = [];
  const service = Object.fromEntries(
    API_NAMES.map((name) => [
      name,
      async (payload: unknown) => {
        calls.push({ name, payload });
        return { answeredBy: name };
      },
    ]),
  ) as unknown as WorkbenchService;
  service.onEvent = () => () => undefined;
  return { service, calls };
}

describe('window options', () => {
  const options = buildWindowOptions('/app/out/preload/index.cjs');

  it('isolates the renderer: context isolation, sandbox, no Node, web security on', () => {
    expect(options.webPreferences?.contextIsolation).toBe(true);
    expect(options.webPreferences?.sandbox).toBe(true);
    expect(options.webPreferences?.nodeIntegration).toBe(false);
    expect(options.webPreferences?.nodeIntegrationInWorker).toBe(false);
    expect(options.webPreferences?.nodeIntegrationInSubFrames).toBe(false);
    expect(options.webPreferences?.webSecurity).toBe(true);
    expect(options.webPreferences?.allowRunningInsecureContent).toBe(false);
    expect(options.webPreferences?.webviewTag).toBe(false);
  });

  it('loads the CommonJS preload it is given (an ES preload would need the sandbox off)', () => {
    expect(options.webPreferences?.preload).toBe('/app/out/preload/index.cjs');
  });

  it('lets the window navigate only to its own page', () => {
    const page = 'file:///app/out/renderer/index.html';
    expect(isAllowedNavigation('file:///app/out/renderer/index.html#/runs', page)).toBe(true);
    expect(isAllowedNavigation('https://example.com/', page)).toBe(false);
    expect(isAllowedNavigation('file:///etc/passwd', page)).toBe(false);
    expect(isAllowedNavigation('not a url', page)).toBe(false);
  });
});

describe('build layout', () => {
  it('emits the preload as CommonJS, which Electron runs with the sandbox on', async () => {
    const { default: config } = await import('../electron.vite.config.js');
    const preload = (config as { preload: { build: { rolldownOptions: unknown } } }).preload;
    const options = preload.build.rolldownOptions as {
      input: { index: string };
      output: { format: string; entryFileNames: string };
    };

    expect(options.output.format).toBe('cjs');
    expect(options.output.entryFileNames).toBe('[name].cjs');
    expect(options.input.index.endsWith(path.join('preload', 'index.ts'))).toBe(true);
  });
});

describe('content security policy', () => {
  const directives = new Map(
    CONTENT_SECURITY_POLICY.split(';').map((d) => {
      const [name, ...values] = d.trim().split(/\s+/);
      return [name, values] as const;
    }),
  );

  it("allows only the app's own origin by default and for scripts, styles and connections", () => {
    expect(directives.get('default-src')).toEqual(["'self'"]);
    expect(directives.get('script-src')).toEqual(["'self'"]);
    expect(directives.get('style-src')).toEqual(["'self'"]);
    expect(directives.get('connect-src')).toEqual(["'self'"]);
    expect(directives.get('object-src')).toEqual(["'none'"]);
  });

  it('permits no eval, no inline code and no remote host anywhere', () => {
    for (const policy of [CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY_HEADER]) {
      expect(policy).not.toMatch(/unsafe-eval|unsafe-inline|wasm-unsafe-eval/);
      expect(policy).not.toMatch(/https?:|\*|ws:/);
    }
  });

  it('is the same policy in the renderer meta tag and the header (plus frame-ancestors)', () => {
    const html = fs.readFileSync(path.join(import.meta.dirname, '../renderer/index.html'), 'utf8');
    const meta = /http-equiv="Content-Security-Policy"\s+content="([^"]+)"/.exec(html)?.[1];
    expect(meta).toBe(CONTENT_SECURITY_POLICY);
    const header = `${CONTENT_SECURITY_POLICY}; frame-ancestors 'none'`;
    expect(CONTENT_SECURITY_POLICY_HEADER).toBe(header);
  });
});

describe('API handlers as plain functions', () => {
  it('refuse a run id of the wrong type, naming the field', async () => {
    const { service, calls } = recordingService();
    const handlers = createHandlers(service);

    const refused = handlers.getRun({ runId: 42 });
    await expect(refused).rejects.toBeInstanceOf(ApiError);
    await expect(refused).rejects.toThrow(/getRun: invalid payload: runId: .*expected string/);
    expect(calls).toHaveLength(0);
  });

  it('refuse unknown fields, so a typo is not silently ignored', async () => {
    const { service } = recordingService();
    const handlers = createHandlers(service);

    await expect(handlers.getRun({ runId: 'abc', runid: 'abc' })).rejects.toThrow(/runid/);
  });

  it('refuse a run id with path characters', async () => {
    const { service } = recordingService();
    const handlers = createHandlers(service);

    const refused = handlers.runLog({ runId: '../../etc' });
    await expect(refused).rejects.toThrow(/runId: a run id uses only/);
  });

  it('refuse a search config with a bad nested field, naming its full path', async () => {
    const { service, calls } = recordingService();
    const handlers = createHandlers(service);
    const config = defaultSearchConfig('fmnist');
    const broken = { ...config, supernet: { ...config.supernet, epochs: 0 } };

    await expect(handlers.startSearch({ config: broken })).rejects.toThrow(
      /startSearch: invalid payload: config\.supernet\.epochs: /,
    );
    expect(calls).toHaveLength(0);
  });

  it('pass a valid payload to the service, parsed', async () => {
    const { service, calls } = recordingService();
    const handlers = createHandlers(service);

    const result = await handlers.runMetrics({ runId: 'run-1', afterId: 5 });
    expect(result).toEqual({ answeredBy: 'runMetrics' });
    expect(calls).toEqual([{ name: 'runMetrics', payload: { runId: 'run-1', afterId: 5 } }]);
  });

  it('report an unknown call, a bad payload and a service failure as envelopes', async () => {
    const { service } = recordingService();
    service.listRuns = async () => {
      throw new Error('disk on fire');
    };
    const handlers = createHandlers(service);

    expect(await dispatch(handlers, 'deleteEverything', {})).toMatchObject({
      ok: false,
      error: { code: 'unknown-call', message: expect.stringMatching(/deleteEverything/) },
    });
    const noBudgets = { generatorId: 'g', budgetsM: [] };
    expect(await dispatch(handlers, 'generate', noBudgets)).toMatchObject({
      ok: false,
      error: { code: 'invalid-payload', message: expect.stringMatching(/budgetsM/) },
    });
    expect(await dispatch(handlers, 'listRuns', {})).toEqual({
      ok: false,
      error: { code: 'failed', message: 'listRuns failed: disk on fire' },
    });
  });
});

describe('IPC transport', () => {
  function fakeIpcMain() {
    const handlers = new Map<string, (event: unknown, payload: unknown) => Promise<unknown>>();
    return {
      handlers,
      handle: (channel: string, fn: (event: unknown, payload: unknown) => Promise<unknown>) => {
        handlers.set(channel, fn);
      },
      removeHandler: (channel: string) => {
        handlers.delete(channel);
      },
    };
  }

  it('registers one channel per call and answers trusted pages only', async () => {
    const ipc = fakeIpcMain();
    const { service } = recordingService();
    const remove = registerIpc(ipc as never, createHandlers(service), service, {
      isTrustedSender: (url) => url.startsWith('file:///app/'),
      targets: () => [],
    });

    expect([...ipc.handlers.keys()].sort()).toEqual(API_NAMES.map((n) => IPC_PREFIX + n).sort());

    const trusted = { senderFrame: { url: 'file:///app/index.html' } };
    const stranger = { senderFrame: { url: 'https://evil.example/' } };
    const listRuns = ipc.handlers.get(`${IPC_PREFIX}listRuns`)!;
    expect(await listRuns(trusted, {})).toEqual({ ok: true, value: { answeredBy: 'listRuns' } });
    expect(await listRuns(stranger, {})).toMatchObject({
      ok: false,
      error: { message: expect.stringMatching(/untrusted page/) },
    });

    remove();
    expect(ipc.handlers.size).toBe(0);
  });

  it('pushes service events to every open window', () => {
    const ipc = fakeIpcMain();
    const { service } = recordingService();
    let emit: (e: WorkbenchEvent) => void = () => undefined;
    service.onEvent = (listener) => {
      emit = listener;
      return () => undefined;
    };
    const sent: unknown[][] = [];
    const window = { isDestroyed: () => false, send: (...args: unknown[]) => sent.push(args) };
    registerIpc(ipc as never, createHandlers(service), service, {
      isTrustedSender: () => true,
      targets: () => [window as never],
    });

    const event: WorkbenchEvent = { type: 'log', event: { runId: 'r', line: 'hello' } };
    emit(event);
    expect(sent).toEqual([[IPC_EVENT_CHANNEL, event]]);
  });
});

describe('workbench service over a real registry', () => {
  let dir: string;
  let registry: RunRegistry;
  let service: RegistryWorkbenchService;
  const jobs = Object.assign(new EventEmitter(), {
    started: [] as unknown[],
    cancelled: [] as string[],
    async startSearch(config: unknown) {
      this.started.push(config);
      return 'run-from-jobs';
    },
    cancel(runId: string) {
      this.cancelled.push(runId);
    },
    resume() {
      return undefined;
    },
  });

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sgnas-service-'));
    registry = await RunRegistry.open(path.join(dir, 'registry.db'));
    service = new RegistryWorkbenchService({
      registry,
      jobs: jobs as unknown as JobRunnerPort,
      generators: { list: async () => [], generate: async () => [] },
    });
  });

  afterAll(() => {
    service.close();
    registry.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('lists a run with its settings, latest tau and best accuracy', async () => {
    const config = { ...defaultSearchConfig('fmnist'), forcedSampling: false };
    const run = await registry.createRun({ kind: 'search', config, name: 'ablation A' });
    await registry.markRunning(run.id);
    await registry.addArchitectures(run.id, [
      { budgetM: 1.2, architecture: {}, compact: 'x', flopsM: 1.19, params: 10, accuracy: 0.81 },
      { budgetM: 1.5, architecture: {}, compact: 'y', flopsM: 1.52, params: 12, accuracy: 0.84 },
    ]);
    await registry.addSweep(run.id, { tau: 0.5, pearson: 0.6, n: 2 });
    await registry.addSweep(run.id, { tau: 0.9, pearson: 0.95, n: 2 });

    const [summary] = (await service.listRuns({})).filter((r) => r.id === run.id);
    expect(summary).toMatchObject({
      name: 'ablation A',
      status: 'running',
      preset: 'fmnist',
      forcedSampling: false,
      shadowBatchNorm: true,
      tau: 0.9, // the latest sweep, not the first
      bestAccuracy: 0.84,
    });

    const [sweep] = await service.runSweeps({ runId: run.id });
    expect(sweep.points).toEqual([
      { targetM: 1.2, flopsM: 1.19 },
      { targetM: 1.5, flopsM: 1.52 },
    ]);
  });

  it('reports an unknown run as not-found and refuses to resume a finished one', async () => {
    const missing = service.getRun({ runId: 'no-such-run' });
    await expect(missing).rejects.toMatchObject({ code: 'not-found' });

    const config = defaultSearchConfig('fmnist');
    const run = await registry.createRun({ kind: 'search', config });
    await registry.markRunning(run.id);
    await registry.finish(run.id, 'completed');
    await expect(service.resumeRun({ runId: run.id })).rejects.toMatchObject({ code: 'conflict' });
  });

  it("resolves an architecture with the cost model's totals, split per layer", async () => {
    const preset = getPreset('fmnist');
    // One token per searchable layer, cycling through mixed expansion rates.
    const tokens = ['33----', '357---', '5555--', '777777', '333---', '73----'];
    const layerTokens = preset.layers.map((_, l) => tokens[l % tokens.length]);
    const text = layerTokens.join(' ');
    const detail = await service.describeArchitecture({ preset: 'fmnist', text });
    const arch = parseArchitectureText(text, preset, { forcedSampling: false, minExpansion: 1 });

    expect(detail.flopsM).toBeCloseTo(flopsM(arch, preset), 9);
    expect(detail.params).toBe(paramCount(arch, preset, 10));
    const rates = layerTokens.map((t) => t.replace(/-/g, '').length);
    expect(detail.layers.map((l) => l.expansionRate)).toEqual(rates);
    // The fixed part is the same for every architecture of the preset.
    const largest = '777777 '.repeat(preset.layers.length);
    const other = await service.describeArchitecture({ preset: 'fmnist', text: largest });
    expect(other.fixedFlopsM).toBeCloseTo(detail.fixedFlopsM, 9);
    expect(other.fixedParams).toBe(detail.fixedParams);
  });

  it('explains an architecture that does not fit the preset', async () => {
    const layers = getPreset('fmnist').layers.length;
    const oneLayer = service.describeArchitecture({ preset: 'fmnist', text: '33----' });
    await expect(oneLayer).rejects.toThrow(
      `architecture: preset 'fmnist' has ${layers} searchable layers, but the architecture has 1`,
    );
  });

  it('flags a budget interval the space cannot reach before launch', async () => {
    const config = { ...defaultSearchConfig('fmnist'), constraint: { lowM: 0.1, highM: 1.5 } };
    const check = await service.checkSearchConfig({ config });

    expect(check.ok).toBe(false);
    expect(check.problems).toEqual([
      expect.objectContaining({
        path: 'constraint',
        message: expect.stringMatching(/0\.1\.\.1\.5/),
      }),
    ]);
    const launched = service.startSearch({ config });
    await expect(launched).rejects.toMatchObject({ code: 'invalid-payload' });
    expect(jobs.started).toHaveLength(0);
  });

  it('starts a valid search through the job runner and forwards its progress', async () => {
    const seen: WorkbenchEvent[] = [];
    const off = service.onEvent((e) => seen.push(e));

    const { runId } = await service.startSearch({ config: defaultSearchConfig('fmnist') });
    expect(runId).toBe('run-from-jobs');
    jobs.emit('progress', {
      runId,
      stage: 'supernet',
      epoch: 1,
      epochs: 3,
      step: 4,
      steps: 10,
      loss: 1.25,
      accuracy: 0.5,
      etaSec: 30,
      progress: 0.1,
    });
    off();

    expect(seen.filter((e) => e.type === 'progress')).toHaveLength(1);
    const log = await service.runLog({ runId: 'run-from-jobs' }).catch(() => null);
    // The run is not in this registry (the fake runner made the id up), so the
    // log call reports it missing rather than inventing a run.
    expect(log).toBeNull();
    expect(seen.some((e) => e.type === 'log' && /loss 1\.2500/.test(e.event.line))).toBe(true);
  });
});

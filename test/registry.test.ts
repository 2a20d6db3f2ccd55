import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Client, createClient } from '@libsql/client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RegistryError } from '../main/registry/errors.js';
import { defaultHome, findMigrationsFolder, resolveDbPath } from '../main/registry/paths.js';
import { type RunRecord, RunRegistry } from '../main/registry/registry.js';

const REPO = path.resolve(import.meta.dirname, '..');
const MIGRATIONS = path.join(REPO, 'drizzle');
const JOURNAL = JSON.parse(
  fs.readFileSync(path.join(MIGRATIONS, 'meta', '_journal.json'), 'utf8'),
) as { entries: { tag: string; when: number }[] };

let tmp: string;
const open: { close(): void }[] = [];

beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sgnas-registry-'));
});

afterEach(() => {
  for (const handle of open.splice(0)) handle.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

async function openRegistry(file = path.join(tmp, 'registry.db'), busyTimeoutMs?: number) {
  const registry = await RunRegistry.open(file, { migrationsFolder: MIGRATIONS, busyTimeoutMs });
  open.push(registry);
  return registry;
}

function rawClient(file: string): Client {
  const client = createClient({ url: pathToFileURL(file).href, concurrency: 1 });
  open.push(client);
  return client;
}

async function startedRun(registry: RunRegistry, pid = process.pid): Promise<RunRecord> {
  const run = await registry.createRun({ kind: 'search', config: { preset: 'fmnist', seed: 7 } });
  return registry.markRunning(run.id, pid);
}

/** Resolves with the pid of a Node child once it has exited and been reaped. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await new Promise((resolve) => child.on('exit', resolve));
  return child.pid as number;
}

async function refusal(promise: Promise<unknown>): Promise<RegistryError> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(RegistryError);
  return err as RegistryError;
}

describe('migrations', () => {
  it('apply every journal entry to a new file and leave it in WAL mode', async () => {
    const file = path.join(tmp, 'nested', 'registry.db');
    await openRegistry(file);

    const client = rawClient(file);
    const applied = await client.execute(
      'SELECT hash, created_at FROM __drizzle_migrations ORDER BY id',
    );
    // drizzle keys each applied migration by the sha256 of its SQL file.
    const expected = JOURNAL.entries.map((e) =>
      createHash('sha256')
        .update(fs.readFileSync(path.join(MIGRATIONS, `${e.tag}.sql`)))
        .digest('hex'),
    );
    expect(applied.rows.map((r) => r.hash)).toEqual(expected);
    const appliedAt = applied.rows.map((r) => Number(r.created_at));
    expect(appliedAt).toEqual(JOURNAL.entries.map((e) => e.when));

    const tables = await client.execute(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' " +
        'ORDER BY name',
    );
    expect(tables.rows.map((r) => r.name)).toEqual([
      '__drizzle_migrations',
      'architectures',
      'artifacts',
      'metrics',
      'runs',
      'sweeps',
    ]);
    const mode = await client.execute('PRAGMA journal_mode');
    expect(mode.rows[0][0]).toBe('wal');
  });

  it('are a no-op on an up-to-date file: same rows, same schema, data kept', async () => {
    const file = path.join(tmp, 'registry.db');
    const first = await openRegistry(file);
    const run = await first.createRun({ kind: 'sweep', config: { targets: 20 } });
    first.close();

    const client = rawClient(file);
    const schemaSql = 'SELECT type, name, sql FROM sqlite_master ORDER BY type, name';
    const migrationsSql = 'SELECT id, hash, created_at FROM __drizzle_migrations ORDER BY id';
    const schemaBefore = (await client.execute(schemaSql)).rows;
    const migrationsBefore = (await client.execute(migrationsSql)).rows;

    const second = await openRegistry(file);

    expect((await client.execute(migrationsSql)).rows).toEqual(migrationsBefore);
    expect(migrationsBefore).toHaveLength(JOURNAL.entries.length);
    expect((await client.execute(schemaSql)).rows).toEqual(schemaBefore);
    expect((await second.getRun(run.id)).config).toEqual({ targets: 20 });
  });

  it('are found from the repo root without being passed in', () => {
    expect(findMigrationsFolder({})).toBe(MIGRATIONS);
    const packaged = '/opt/app/drizzle';
    expect(findMigrationsFolder({ SGNAS_MIGRATIONS: packaged })).toBe(packaged);
  });
});

describe('where the registry lives', () => {
  it('defaults to the folder Electron userData uses for sgnas-workbench', () => {
    const home = '/home/ada';
    expect(defaultHome({}, 'linux', home)).toBe('/home/ada/.local/share/sgnas-workbench');
    expect(defaultHome({ XDG_DATA_HOME: '/data' }, 'linux', home)).toBe('/data/sgnas-workbench');
    expect(defaultHome({}, 'darwin', home)).toBe(
      '/home/ada/Library/Application Support/sgnas-workbench',
    );
    expect(defaultHome({ APPDATA: '/roaming' }, 'win32', home)).toBe(
      path.join('/roaming', 'sgnas-workbench'),
    );
    expect(defaultHome({ SGNAS_HOME: '/srv/sgnas', XDG_DATA_HOME: '/data' }, 'linux', home)).toBe(
      '/srv/sgnas',
    );
  });

  it('takes --db over SGNAS_DB over SGNAS_HOME/registry.db', () => {
    const env = { SGNAS_DB: '/env/runs.db', SGNAS_HOME: '/home/x' };
    expect(resolveDbPath('/flag/runs.db', env)).toBe('/flag/runs.db');
    expect(resolveDbPath(undefined, env)).toBe('/env/runs.db');
    expect(resolveDbPath(undefined, { SGNAS_HOME: '/home/x' })).toBe('/home/x/registry.db');
  });
});

describe('a run', () => {
  it('goes queued -> running -> completed, recording everything on the way', async () => {
    const registry = await openRegistry();
    const config = { preset: 'fmnist', supernet: { epochs: 2 }, seed: 3 };
    const run = await registry.createRun({
      kind: 'search',
      name: 'fmnist search',
      config,
      seed: 3,
      backend: 'wasm',
      libraryVersions: { '@tensorflow/tfjs': '4.22.0' },
    });
    expect(run.status).toBe('queued');
    expect(run.libraryVersions).toEqual({
      node: process.versions.node,
      '@tensorflow/tfjs': '4.22.0',
    });
    expect(fs.statSync(registry.runFolder(run.id)).isDirectory()).toBe(true);
    expect(registry.runFolder(run.id)).toBe(path.join(tmp, 'runs', run.id));

    const running = await registry.markRunning(run.id);
    expect(running).toMatchObject({
      status: 'running',
      pid: process.pid,
      hostname: os.hostname(),
    });
    expect(running.startedAt).toBeGreaterThanOrEqual(run.createdAt);

    const signal = await registry.setProgress(run.id, 0.25, 'supernet');
    expect(signal).toEqual({ cancelRequested: false });
    await registry.recordMetrics(run.id, [
      { stage: 'supernet', epoch: 0, step: 1, name: 'loss', value: 2.3 },
      { stage: 'supernet', epoch: 0, step: 2, name: 'loss', value: 2.1 },
    ]);
    const ckpt = 'checkpoints/supernet-0.bin';
    fs.mkdirSync(path.join(registry.runFolder(run.id), 'checkpoints'));
    fs.writeFileSync(path.join(registry.runFolder(run.id), ckpt), Buffer.from([1, 2, 3, 4]));
    const artifact = await registry.addArtifact(run.id, { kind: 'checkpoint', path: ckpt });
    // sha256 of the bytes 01 02 03 04
    const expectedSha = createHash('sha256').update(Buffer.from([1, 2, 3, 4])).digest('hex');
    expect(artifact.sha256).toBe(expectedSha);
    expect(artifact.bytes).toBe(4);
    await registry.addArchitectures(run.id, [
      { budgetM: 5, architecture: { layers: [['3x3', '5x5']] }, compact: '35', flopsM: 4.8,
        params: 1200, accuracy: 0.81 },
    ]);
    await registry.addSweep(run.id, { tau: 1, tauP: 1e-9, pearson: 0.99, pearsonP: 1e-12, n: 20 });

    const done = await registry.finish(run.id, 'completed');
    expect(done).toMatchObject({
      status: 'completed',
      progress: 1,
      error: null,
      stage: 'supernet',
    });
    expect(done.endedAt).toBeGreaterThanOrEqual(running.startedAt as number);
    expect(await registry.countRows(run.id)).toEqual({
      metrics: 2, artifacts: 1, architectures: 1, sweeps: 1,
    });
    expect((await registry.getRun(run.id)).config).toEqual(config);
  });

  it('is read-only once finished: no restart, no new data, no second ending', async () => {
    const registry = await openRegistry();
    const run = await startedRun(registry);
    await registry.finish(run.id, 'failed', 'loss became NaN at supernet epoch 1 step 40');

    const attempts = [
      registry.markRunning(run.id),
      registry.heartbeat(run.id),
      registry.recordMetrics(run.id, [{ stage: 's', epoch: 0, step: 0, name: 'loss', value: 1 }]),
      registry.addSweep(run.id, { tau: 1, pearson: 1, n: 3 }),
      registry.finish(run.id, 'completed'),
      registry.requestCancel(run.id),
    ];
    for (const attempt of attempts) {
      const err = await refusal(attempt);
      expect(err.code).toBe('STATE');
      expect(err.message).toContain('it is failed');
      expect(err.message).toContain('read-only');
    }
    const after = await registry.getRun(run.id);
    expect(after.status).toBe('failed');
    expect(after.error).toBe('loss became NaN at supernet epoch 1 step 40');
    expect(await registry.countRows(run.id)).toMatchObject({ metrics: 0, sweeps: 0 });
  });

  it('refuses bad input with a message naming the value, and stores nothing', async () => {
    const registry = await openRegistry();

    const unknownId = await refusal(registry.getRun('no-such-run'));
    expect(unknownId.code).toBe('NOT_FOUND');
    expect(unknownId.message).toContain("'no-such-run'");

    const badKind = await refusal(registry.createRun({ kind: 'train' as 'search', config: {} }));
    expect(badKind.message).toContain("'train'");
    const arrayConfig = await refusal(
      registry.createRun({ kind: 'search', config: [1, 2] as unknown as Record<string, unknown> }),
    );
    expect(arrayConfig.message).toContain('an array');
    const badParent = await refusal(
      registry.createRun({ kind: 'generate', config: {}, parentRunId: 'ghost-parent' }),
    );
    expect(badParent.message).toContain('ghost-parent');
    expect(await registry.listRuns()).toEqual([]);

    const run = await startedRun(registry);
    const nan = await refusal(
      registry.recordMetrics(run.id, [
        { stage: 'generator', epoch: 2, step: 9, name: 'loss', value: 1.5 },
        { stage: 'generator', epoch: 2, step: 10, name: 'loss', value: Number.NaN },
      ]),
    );
    expect(nan.message).toContain('value NaN');
    expect(await registry.getMetrics(run.id)).toEqual([]);
    const escape = await refusal(registry.addArtifact(run.id, { kind: 'log', path: '../x.log' }));
    expect(escape.message).toContain("'../x.log'");
    expect((await refusal(registry.setProgress(run.id, 1.5))).message).toContain('1.5');
  });

  it('links a child run to its parent, and lists runs newest first with filters', async () => {
    const registry = await openRegistry();
    const parent = await registry.createRun({ kind: 'supernet', config: { epochs: 1 } });
    // createdAt has millisecond resolution: make the child strictly newer.
    await new Promise((resolve) => setTimeout(resolve, 5));
    const child = await registry.createRun({
      kind: 'generator',
      config: { lambda: 3e-4 },
      parentRunId: parent.id,
    });
    await registry.markRunning(child.id);

    expect((await registry.getRun(child.id)).parentRunId).toBe(parent.id);
    expect((await registry.listRuns({ parentRunId: parent.id })).map((r) => r.id)).toEqual([
      child.id,
    ]);
    expect((await registry.listRuns({ status: 'queued' })).map((r) => r.id)).toEqual([parent.id]);
    expect((await registry.listRuns()).map((r) => r.id)).toEqual([child.id, parent.id]);
    expect((await registry.findRun(child.id.slice(0, 8))).id).toBe(child.id);
  });
});

describe('metrics', () => {
  it('keep one row per (stage, epoch, step, name): a repeat updates the value', async () => {
    const registry = await openRegistry();
    const run = await startedRun(registry);
    const point = { stage: 'supernet', epoch: 1, step: 5, name: 'loss', value: 1.9 };

    await registry.recordMetrics(run.id, [point]);
    await registry.recordMetrics(run.id, [{ ...point, value: 1.7 }]);

    const rows = await registry.getMetrics(run.id);
    expect(rows).toHaveLength(1);
    expect(rows[0].value).toBe(1.7);
  });

  it('have no gap and no duplicate after a resume re-sends steps since the checkpoint',
    async () => {
    const registry = await openRegistry();
    const run = await startedRun(registry);
    const steps = (from: number, to: number) =>
      Array.from({ length: to - from + 1 }, (_, i) => ({
        stage: 'supernet', epoch: 0, step: from + i, name: 'loss', value: 3 - (from + i) / 10,
      }));

    await registry.recordMetrics(run.id, steps(1, 6));
    await registry.finish(run.id, 'interrupted', 'killed');
    await registry.markRunning(run.id);
    // The checkpoint was at step 4: the resumed run repeats steps 5 and 6.
    await registry.recordMetrics(run.id, steps(5, 10));

    const rows = await registry.getMetrics(run.id, { name: 'loss' });
    expect(rows.map((r) => r.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('written by one connection are read by another holding a read snapshot (WAL)',
    async () => {
    const file = path.join(tmp, 'registry.db');
    // A short busy timeout: in rollback-journal mode the write below would
    // fail with SQLITE_BUSY instead of waiting for the reader.
    const writer = await openRegistry(file, 200);
    const reader = await openRegistry(file);
    const run = await startedRun(writer);
    const batch = (epoch: number) =>
      Array.from({ length: 50 }, (_, step) => ({
        stage: 'supernet', epoch, step, name: 'loss', value: 1 / (step + 1),
      }));
    await writer.recordMetrics(run.id, batch(0));

    const snapshot = await rawClient(file).transaction('read');
    const inSnapshot = async () =>
      Number((await snapshot.execute('SELECT count(*) FROM metrics')).rows[0][0]);
    expect(await inSnapshot()).toBe(50);

    await writer.recordMetrics(run.id, batch(1));
    expect(await inSnapshot()).toBe(50);
    expect(await reader.getMetrics(run.id)).toHaveLength(100);
    snapshot.close();

    const newer = await reader.getMetrics(run.id, { afterId: 50 });
    expect(newer.map((m) => m.epoch)).toEqual(Array(50).fill(1));
  });
});

describe('dead runs at start-up', () => {
  it('become interrupted when their pid is gone on this host; live ones stay running',
    async () => {
    const registry = await openRegistry();
    const pid = await deadPid();
    const dead = await startedRun(registry, pid);
    const alive = await startedRun(registry, process.pid);

    const marked = await registry.markDeadRunsInterrupted();

    expect(marked).toEqual([dead.id]);
    const after = await registry.getRun(dead.id);
    expect(after.status).toBe('interrupted');
    expect(after.error).toContain(`process ${pid}`);
    expect((await registry.getRun(alive.id)).status).toBe('running');
    expect((await registry.markRunning(dead.id)).status).toBe('running');
  });

  it('become interrupted on another host only once their heartbeat is stale', async () => {
    const file = path.join(tmp, 'registry.db');
    const registry = await openRegistry(file);
    const run = await registry.createRun({ kind: 'sweep', config: {} });
    await registry.markRunning(run.id, 4242, 'lab-gpu-7');

    expect(await registry.markDeadRunsInterrupted(60_000)).toEqual([]);
    const anHourAgo = Date.now() - 3_600_000;
    await rawClient(file).execute({
      sql: 'UPDATE runs SET heartbeat_at = ? WHERE id = ?',
      args: [anHourAgo, run.id],
    });

    expect(await registry.markDeadRunsInterrupted(60_000)).toEqual([run.id]);
    expect((await registry.getRun(run.id)).error).toContain('lab-gpu-7');
  });
});

describe('cancel', () => {
  it('flags a running run for its process and ends a queued one at once', async () => {
    const registry = await openRegistry();
    const running = await startedRun(registry);
    const queued = await registry.createRun({ kind: 'sweep', config: {} });

    expect((await registry.requestCancel(running.id)).status).toBe('running');
    expect(await registry.heartbeat(running.id)).toEqual({ cancelRequested: true });
    expect((await registry.finish(running.id, 'cancelled')).cancelRequested).toBe(false);

    const ended = await registry.requestCancel(queued.id);
    expect(ended.status).toBe('cancelled');
    expect(ended.endedAt).not.toBeNull();
  });
});

describe('opening a bad file', () => {
  it('refuses a file that is not SQLite, names it, and leaves its bytes untouched', async () => {
    const file = path.join(tmp, 'notes.db');
    const bytes = Buffer.from('these are my lab notes, not a database\n'.repeat(20));
    fs.writeFileSync(file, bytes);

    const err = await refusal(RunRegistry.open(file, { migrationsFolder: MIGRATIONS }));

    expect(err.code).toBe('NOT_A_DATABASE');
    expect(err.message).toContain(file);
    expect(fs.readFileSync(file).equals(bytes)).toBe(true);
    expect(fs.readdirSync(tmp)).toEqual(['notes.db']);
  });

  it('refuses the SQLite database of another program without switching it to WAL', async () => {
    const file = path.join(tmp, 'photos.db');
    const other = rawClient(file);
    await other.execute('CREATE TABLE albums (id INTEGER PRIMARY KEY, title TEXT)');
    other.close();
    const bytes = fs.readFileSync(file);

    const err = await refusal(RunRegistry.open(file, { migrationsFolder: MIGRATIONS }));

    expect(err.code).toBe('NOT_A_DATABASE');
    expect(err.message).toContain('tables albums');
    // Byte 18 of the header is the write version: 1 for rollback journal, 2 for WAL.
    expect(fs.readFileSync(file).equals(bytes)).toBe(true);
    expect(bytes[18]).toBe(1);
  });

  it('refuses a read-only folder with a message naming it', async () => {
    const dir = path.join(tmp, 'locked');
    fs.mkdirSync(dir);
    fs.chmodSync(dir, 0o555);
    fs.chmodSync(tmp, 0o755);
    const file = path.join(dir, 'registry.db');

    // root writes through permission bits, so the check runs as user nobody.
    const outcome = process.getuid?.() === 0 ? openAsNobody(file) : await openHere(file);

    expect(outcome.code).toBe('READ_ONLY');
    expect(outcome.message).toContain(dir);
    expect(fs.readdirSync(dir)).toEqual([]);
  });
});

async function openHere(file: string): Promise<{ code: string; message: string }> {
  const err = await refusal(RunRegistry.open(file, { migrationsFolder: MIGRATIONS }));
  return { code: err.code, message: err.message };
}

function openAsNobody(file: string): { code: string; message: string } {
  const script = path.join(tmp, 'open-as-nobody.ts');
  const registryModule = pathToFileURL(path.join(REPO, 'main/registry/registry.ts')).href;
  fs.writeFileSync(
    script,
    `import { RunRegistry } from ${JSON.stringify(registryModule)};\n` +
      `RunRegistry.open(${JSON.stringify(file)}, ` +
      `{ migrationsFolder: ${JSON.stringify(MIGRATIONS)} })` +
      `.then(() => console.log(JSON.stringify({ code: 'OPENED', message: '' })),\n` +
      `  (e) => console.log(JSON.stringify({ code: e.code, message: e.message })));\n`,
  );
  fs.chmodSync(script, 0o644);

  const tsx = path.join(REPO, 'node_modules', '.bin', 'tsx');
  const result = spawnSync(tsx, [script], {
    uid: 65534,
    gid: 65534,
    cwd: REPO,
    encoding: 'utf8',
    env: { ...process.env, HOME: tmp, TMPDIR: os.tmpdir() },
  });
  const last = result.stdout.trim().split('\n').pop() ?? '';
  if (!last.startsWith('{')) throw new Error(`child failed: ${result.stderr}`);
  return JSON.parse(last) as { code: string; message: string };
}

describe('export', () => {
  it('writes config, metrics and architectures with one line per stored row', async () => {
    const registry = await openRegistry();
    const config = { preset: 'cifar', generator: { lambda: 0.0003 } };
    const run = await registry.markRunning(
      (await registry.createRun({ kind: 'generate', config })).id,
    );
    await registry.recordMetrics(run.id, [
      { stage: 'generator', epoch: 0, step: 1, name: 'loss', value: 2.5, at: 1000 },
      { stage: 'generator', epoch: 0, step: 1, name: 'flopsM', value: 98.5, at: 1000 },
      { stage: 'generator', epoch: 0, step: 2, name: 'loss', value: 2.25, at: 2000 },
    ]);
    await registry.addArchitectures(run.id, [
      { budgetM: 80, architecture: { layers: [['3x3', '3x3', 'skip']] }, compact: '33-, x19',
        flopsM: 79.5, params: 1_539_492, accuracy: null },
      { budgetM: 120, architecture: { layers: [['7x7', '7x7', '7x7']] }, compact: '777',
        flopsM: 119.2, params: 2_100_000, accuracy: 0.93 },
    ]);
    await registry.addSweep(run.id, { tau: 1, pearson: 0.99, n: 20 });
    const out = path.join(tmp, 'export');

    await registry.exportRun(run.id, out);

    expect(JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8'))).toEqual(config);
    expect(fs.readFileSync(path.join(out, 'metrics.csv'), 'utf8')).toBe(
      'stage,epoch,step,name,value,at\n' +
        'generator,0,1,loss,2.5,1000\n' +
        'generator,0,1,flopsM,98.5,1000\n' +
        'generator,0,2,loss,2.25,2000\n',
    );
    const archJson = JSON.parse(fs.readFileSync(path.join(out, 'architectures.json'), 'utf8'));
    expect(archJson.map((a: { flopsM: number }) => a.flopsM)).toEqual([79.5, 119.2]);
    expect(archJson[1].architecture).toEqual({ layers: [['7x7', '7x7', '7x7']] });
    const archCsv = fs
      .readFileSync(path.join(out, 'architectures.csv'), 'utf8')
      .trim()
      .split('\n');
    expect(archCsv.slice(1).map((line) => line.split(',').slice(1, 5))).toEqual([
      ['80', '79.5', '1539492', ''],
      ['120', '119.2', '2100000', '0.93'],
    ]);
    // The compact text holds a comma, so CSV must quote it.
    expect(archCsv[1].endsWith('"33-, x19"')).toBe(true);
    const sweepCsv = fs.readFileSync(path.join(out, 'sweeps.csv'), 'utf8').trim().split('\n');
    expect(sweepCsv).toHaveLength(2);
    expect(sweepCsv[1].split(',').slice(1, 6)).toEqual(['1', '', '0.99', '', '20']);
    expect(JSON.parse(fs.readFileSync(path.join(out, 'run.json'), 'utf8')).id).toBe(run.id);
  });

  it('of an unknown run fails before creating the folder', async () => {
    const registry = await openRegistry();
    const out = path.join(tmp, 'never');

    const err = await refusal(registry.exportRun('missing-run', out));

    expect(err.message).toContain('missing-run');
    expect(fs.existsSync(out)).toBe(false);
  });
});

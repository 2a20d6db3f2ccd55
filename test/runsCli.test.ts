import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfigJson, runsCommand, UsageError } from '../main/cli/runs.js';
import { type RunRecord, RunRegistry } from '../main/registry/registry.js';

const MIGRATIONS = path.resolve(import.meta.dirname, '..', 'drizzle');

let tmp: string;
let db: string;

beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sgnas-runs-cli-'));
  db = path.join(tmp, 'registry.db');
});

afterEach(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

async function runs(argv: string[], deps: Parameters<typeof runsCommand>[2] = {}):
  Promise<Outcome> {
  let stdout = '';
  let stderr = '';
  const io = {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
  };
  const code = await runsCommand(argv, io, { migrationsFolder: MIGRATIONS, env: {}, ...deps });
  return { code, stdout, stderr };
}

/** Seeds the database through the registry and closes it, as another process would. */
async function seed(build: (registry: RunRegistry) => Promise<RunRecord[]>): Promise<RunRecord[]> {
  const registry = await RunRegistry.open(db, { migrationsFolder: MIGRATIONS });
  try {
    return await build(registry);
  } finally {
    registry.close();
  }
}

async function finishedAndRunning(): Promise<RunRecord[]> {
  return seed(async (registry) => {
    const done = await registry.createRun({ kind: 'sweep', name: 'sweep a', config: { n: 20 } });
    await registry.markRunning(done.id);
    await registry.finish(done.id, 'completed');
    const live = await registry.createRun({ kind: 'search', name: 'search b', config: { e: 2 } });
    await registry.markRunning(live.id);
    await registry.setProgress(live.id, 0.4, 'supernet');
    return [await registry.getRun(done.id), await registry.getRun(live.id)];
  });
}

async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await new Promise((resolve) => child.on('exit', resolve));
  return child.pid as number;
}

describe('runs list', () => {
  it('--json prints a parsable array of {id, kind, status, progress}', async () => {
    const [done, live] = await finishedAndRunning();

    const out = await runs(['list', '--json', '--db', db]);

    expect(out.code).toBe(0);
    expect(out.stderr).toBe('');
    const list = JSON.parse(out.stdout) as Record<string, unknown>[];
    const byId = new Map(list.map((r) => [r.id, r]));
    expect(byId.get(done.id)).toMatchObject({ kind: 'sweep', status: 'completed', progress: 1 });
    expect(byId.get(live.id)).toMatchObject({ kind: 'search', status: 'running', progress: 0.4 });
    expect(list).toHaveLength(2);
  });

  it('reads the database named by SGNAS_DB when --db is absent', async () => {
    const [done] = await finishedAndRunning();

    const out = await runs(['list', '--json'], { env: { SGNAS_DB: db } });

    expect(JSON.parse(out.stdout).map((r: { id: string }) => r.id)).toContain(done.id);
  });

  it('shows a run whose process died as interrupted (start-up clean-up)', async () => {
    const pid = await deadPid();
    const [orphan] = await seed(async (registry) => {
      const run = await registry.createRun({ kind: 'supernet', config: {} });
      return [await registry.markRunning(run.id, pid)];
    });

    const out = await runs(['list', '--json', '--db', db]);

    expect(JSON.parse(out.stdout)[0]).toMatchObject({ id: orphan.id, status: 'interrupted' });
  });

  it('prints a table with every run for people', async () => {
    const [done, live] = await finishedAndRunning();

    const out = await runs(['list', '--db', db]);

    const lines = out.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^ID\s+KIND\s+STATUS\s+PROGRESS/);
    expect(lines.find((l) => l.startsWith(live.id))).toMatch(/search\s+running\s+40%/);
    expect(lines.find((l) => l.startsWith(done.id))).toMatch(/sweep\s+completed\s+100%/);
  });
});

describe('runs show', () => {
  it('--json prints one object with the full config and what was recorded', async () => {
    const [, live] = await finishedAndRunning();

    const out = await runs(['show', live.id.slice(0, 8), '--json', '--db', db]);

    expect(out.code).toBe(0);
    const shown = JSON.parse(out.stdout);
    expect(shown).toMatchObject({
      id: live.id,
      kind: 'search',
      status: 'running',
      config: { e: 2 },
    });
    expect(shown.counts).toEqual({ metrics: 0, artifacts: 0, architectures: 0, sweeps: 0 });
  });

  it('of an unknown id exits 2 naming the id', async () => {
    await finishedAndRunning();

    const out = await runs(['show', 'deadbeef-0000', '--db', db]);

    expect(out.code).toBe(2);
    expect(out.stdout).toBe('');
    expect(out.stderr).toContain("'deadbeef-0000'");
  });
});

describe('runs cancel', () => {
  it('flags a running run and leaves its status to the process that owns it', async () => {
    const [, live] = await finishedAndRunning();

    const out = await runs(['cancel', live.id, '--db', db]);

    expect(out.code).toBe(0);
    expect(out.stdout).toContain('cancel requested');
    const shown = JSON.parse((await runs(['show', live.id, '--json', '--db', db])).stdout);
    expect(shown).toMatchObject({ status: 'running', cancelRequested: true });
  });

  it('of a completed run exits 2 and changes nothing', async () => {
    const [done] = await finishedAndRunning();

    const out = await runs(['cancel', done.id, '--db', db]);

    expect(out.code).toBe(2);
    expect(out.stderr).toContain('read-only');
    const shown = JSON.parse((await runs(['show', done.id, '--json', '--db', db])).stdout);
    expect(shown).toMatchObject({
      status: 'completed',
      cancelRequested: false,
      endedAt: done.endedAt,
    });
  });
});

describe('runs export', () => {
  it('writes the export folder and lists the files', async () => {
    const [done] = await finishedAndRunning();
    const dir = path.join(tmp, 'out');

    const out = await runs(['export', done.id, dir, '--db', db]);

    expect(out.code).toBe(0);
    expect(fs.readdirSync(dir).sort()).toEqual([
      'architectures.csv',
      'architectures.json',
      'artifacts.csv',
      'config.json',
      'metrics.csv',
      'run.json',
      'sweeps.csv',
    ]);
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'))).toEqual({ n: 20 });
  });

  it('of an unknown run exits 2 and creates no folder', async () => {
    await finishedAndRunning();
    const dir = path.join(tmp, 'out');

    const out = await runs(['export', 'nope-nope', dir, '--db', db]);

    expect(out.code).toBe(2);
    expect(fs.existsSync(dir)).toBe(false);
  });
});

describe('runs resume', () => {
  it('hands an interrupted run to the injected resume callback', async () => {
    const [broken] = await seed(async (registry) => {
      const run = await registry.createRun({ kind: 'generator', config: { epochs: 3 } });
      await registry.markRunning(run.id);
      return [await registry.finish(run.id, 'interrupted', 'SIGKILL')];
    });
    const seen: RunRecord[] = [];
    const resume = async (run: RunRecord) => {
      seen.push(run);
      const registry = await RunRegistry.open(db, { migrationsFolder: MIGRATIONS });
      await registry.markRunning(run.id);
      await registry.finish(run.id, 'completed');
      registry.close();
    };

    const out = await runs(['resume', broken.id, '--db', db], { resume });

    expect(out.code).toBe(0);
    expect(seen.map((r) => [r.id, r.status])).toEqual([[broken.id, 'interrupted']]);
    expect(out.stdout).toContain(`run ${broken.id} is completed`);
  });

  it('of a completed run exits 2 without calling the callback (finished runs are read-only)',
    async () => {
      const [done] = await finishedAndRunning();
      let called = false;

      const out = await runs(['resume', done.id, '--db', db], {
        resume: async () => {
          called = true;
        },
      });

      expect(out.code).toBe(2);
      expect(called).toBe(false);
      expect(out.stderr).toContain('read-only');
    });

  it('refuses an interrupted baseline before announcing anything, saying to start it again',
    async () => {
      const [stopped] = await seed(async (registry) => {
        const run = await registry.createRun({ kind: 'baseline-evolution',
          config: { experiment: { kind: 'baseline-evolution' } } });
        await registry.markRunning(run.id);
        return [await registry.finish(run.id, 'interrupted')];
      });
      let called = false;
      const never = async () => {
        called = true;
      };

      const out = await runs(['resume', stopped.id, '--db', db],
        { resume: never, resumeExperiment: never });

      expect(out.code).toBe(2);
      expect(called).toBe(false);
      expect(out.stdout).not.toContain('resuming');
      expect(out.stderr).toContain('a baseline-evolution run cannot resume');
      expect(out.stderr).toContain('start it again with the same settings: ' +
        "`sgnas baseline-evolution ...` or the GUI's Experiments view");
      expect(out.stderr).not.toContain('only search runs');
    });

  it('resumes an interrupted ablation as an experiment, not through the search callback',
    async () => {
      const [stopped] = await seed(async (registry) => {
        const run = await registry.createRun({ kind: 'ablation',
          config: { experiment: { kind: 'ablation' } } });
        await registry.markRunning(run.id);
        return [await registry.finish(run.id, 'interrupted')];
      });
      const searchResumes: string[] = [];
      const experimentResumes: string[] = [];
      const resumeExperiment = async (run: RunRecord) => {
        experimentResumes.push(run.id);
        const registry = await RunRegistry.open(db, { migrationsFolder: MIGRATIONS });
        await registry.markRunning(run.id);
        await registry.finish(run.id, 'completed');
        registry.close();
      };

      const out = await runs(['resume', stopped.id, '--db', db], {
        resume: async (run) => {
          searchResumes.push(run.id);
        },
        resumeExperiment,
      });

      expect(out.code).toBe(0);
      expect(experimentResumes).toEqual([stopped.id]);
      expect(searchResumes).toEqual([]);
      expect(out.stdout).toContain(`resuming run ${stopped.id} (ablation, interrupted)`);
      expect(out.stdout).toContain(`run ${stopped.id} is completed`);
    });

  it('exits 1 when the resumed run ends failed', async () => {
    const [broken] = await seed(async (registry) => {
      const run = await registry.createRun({ kind: 'supernet', config: {} });
      return [run];
    });
    const resume = async (run: RunRecord) => {
      const registry = await RunRegistry.open(db, { migrationsFolder: MIGRATIONS });
      await registry.markRunning(run.id);
      await registry.finish(run.id, 'failed', 'loss is NaN at supernet epoch 0 step 3');
      registry.close();
    };

    const out = await runs(['resume', broken.id, '--db', db], { resume });

    expect(out.code).toBe(1);
    expect(out.stdout).toContain('loss is NaN at supernet epoch 0 step 3');
  });
});

describe('bad input', () => {
  it('an unknown sub-command or option exits 2 with usage, before opening any database',
    async () => {
    for (const argv of [['purge', '--db', db], ['list', '--yaml', '--db', db], ['show'], []]) {
      const out = await runs(argv);
      expect(out.code, argv.join(' ')).toBe(2);
      expect(out.stderr).toContain('usage: sgnas runs');
    }
    expect(fs.existsSync(db)).toBe(false);
  });

  it('a database file that is not SQLite exits 2 and keeps the file byte for byte', async () => {
    const bytes = Buffer.from('{"not": "a database"}\n');
    fs.writeFileSync(db, bytes);

    const out = await runs(['list', '--json', '--db', db]);

    expect(out.code).toBe(2);
    expect(out.stderr).toContain('is not a SQLite database');
    expect(out.stderr).toContain(db);
    expect(fs.readFileSync(db).equals(bytes)).toBe(true);
    expect(fs.readdirSync(tmp)).toEqual(['registry.db']);
  });

  it('malformed --config JSON is a usage error that quotes the text', () => {
    expect(() => parseConfigJson('{seed: 1')).toThrow(UsageError);
    expect(() => parseConfigJson('{seed: 1')).toThrow("'{seed: 1'");
    expect(() => parseConfigJson('[1]')).toThrow('an array');
    expect(parseConfigJson('{"seed": 1}')).toEqual({ seed: 1 });
  });
});

/**
 * The checks RunRegistry.open makes before and while connecting, so a wrong
 * path is refused with a clear message and never modified.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Client } from '@libsql/client';
import { RegistryError } from './errors.js';

const SQLITE_HEADER = Buffer.from('SQLite format 3\0', 'latin1');

/**
 * Refuses, before SQLite touches anything, a path that is a folder, a file
 * that is not SQLite, or a location this process cannot write.
 */
export function checkDatabaseFile(file: string): void {
  const dir = path.dirname(file);
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw new RegistryError(
      'READ_ONLY',
      `cannot create the registry folder ${dir}: ${(err as Error).message}. ` +
        'Choose another place with --db or SGNAS_DB.',
      { cause: err },
    );
  }

  if (fs.existsSync(file)) checkExistingFile(file);
  try {
    fs.accessSync(dir, fs.constants.W_OK);
  } catch (err) {
    throw new RegistryError(
      'READ_ONLY',
      `the registry folder ${dir} is read-only: the database ${path.basename(file)} and its ` +
        'WAL files must be written there. Make it writable or choose another place with ' +
        '--db or SGNAS_DB.',
      { cause: err },
    );
  }
}

/** Refuses a folder, or a non-empty file without the SQLite header. */
function checkExistingFile(file: string): void {
  const stat = fs.statSync(file);
  if (stat.isDirectory()) {
    throw new RegistryError('INVALID', `registry database path ${file} is a folder; give a file`);
  }
  // An empty file is what SQLite creates before its first write: a new database.
  if (stat.size === 0) return;

  const header = Buffer.alloc(SQLITE_HEADER.length);
  const fd = fs.openSync(file, 'r');
  try {
    fs.readSync(fd, header, 0, header.length, 0);
  } finally {
    fs.closeSync(fd);
  }
  if (!header.equals(SQLITE_HEADER)) {
    throw new RegistryError(
      'NOT_A_DATABASE',
      `${file} is not a SQLite database (its first bytes are not "SQLite format 3"); ` +
        'it was left untouched. Point --db or SGNAS_DB at a registry file or a new path.',
    );
  }
}

/**
 * Sets WAL mode, foreign keys and synchronous=NORMAL on the (single)
 * connection, after making sure the file is ours or new.
 *
 * @throws RegistryError NOT_A_DATABASE, READ_ONLY or INVALID naming the file.
 */
export async function configureConnection(client: Client, file: string): Promise<void> {
  try {
    await checkOwnSchema(client, file);
    const journal = await client.execute('PRAGMA journal_mode=WAL');
    const mode = String(journal.rows[0]?.[0] ?? '');
    if (mode.toLowerCase() !== 'wal') {
      throw new Error(`SQLite kept journal_mode '${mode}' instead of 'wal'`);
    }
    await client.execute('PRAGMA foreign_keys=ON');
    // In WAL mode NORMAL still survives a killed process (what the crash tests
    // exercise); only a power cut may lose the last commits. FULL would fsync
    // on every metric batch and heartbeat.
    await client.execute('PRAGMA synchronous=NORMAL');
  } catch (err) {
    if (err instanceof RegistryError) throw err;
    const message = (err as Error).message;
    const code = /NOTADB/.test(message) ? 'NOT_A_DATABASE' : /READONLY|CANTOPEN/.test(message)
      ? 'READ_ONLY'
      : 'INVALID';
    throw new RegistryError(code, `cannot open the registry database ${file}: ${message}`, {
      cause: err,
    });
  }
}

/**
 * Refuses a SQLite file of another program before anything (even the
 * persistent switch to WAL) is written to it: it has tables but no drizzle
 * migration journal.
 */
async function checkOwnSchema(client: Client, file: string): Promise<void> {
  const tables = await client.execute(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
  );
  const names = tables.rows.map((r) => String(r[0]));
  if (names.length === 0 || names.includes('__drizzle_migrations')) return;

  const shown = names.slice(0, 5).join(', ') + (names.length > 5 ? ', ...' : '');
  throw new RegistryError(
    'NOT_A_DATABASE',
    `${file} is a SQLite database of another program (tables ${shown}; no ` +
      '__drizzle_migrations), not a workbench registry; it was left untouched. Point --db ' +
      'or SGNAS_DB at a registry file or a new path.',
  );
}

/**
 * Where the registry keeps its database, its run folders and its migrations.
 *
 * The default home is the folder Electron's `app.getPath('userData')` gives
 * for an app named sgnas-workbench, so the CLI and the desktop app share one
 * registry without configuration.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The app name that Electron's userData folder is named after. */
export const APP_FOLDER_NAME = 'sgnas-workbench';

/** The database file's name inside the home folder. */
export const DB_FILE_NAME = 'registry.db';

type Env = Record<string, string | undefined>;

/**
 * The per-user data folder of the workbench.
 *
 * SGNAS_HOME wins; otherwise the platform's application-data folder: Linux
 * $XDG_DATA_HOME (or ~/.local/share), macOS ~/Library/Application Support,
 * Windows %APPDATA%.
 *
 * @param env Environment to read (process.env by default).
 * @param platform Platform to assume (process.platform by default).
 * @param homeDir The user's home folder (os.homedir() by default).
 * @returns An absolute folder path; the folder may not exist yet.
 */
export function defaultHome(
  env: Env = process.env,
  platform: NodeJS.Platform = process.platform,
  homeDir: string = os.homedir(),
): string {
  if (env.SGNAS_HOME) return path.resolve(env.SGNAS_HOME);

  if (platform === 'darwin') {
    return path.join(homeDir, 'Library', 'Application Support', APP_FOLDER_NAME);
  }

  if (platform === 'win32') {
    const appData = env.APPDATA || path.join(homeDir, 'AppData', 'Roaming');
    return path.join(appData, APP_FOLDER_NAME);
  }

  const dataHome = env.XDG_DATA_HOME || path.join(homeDir, '.local', 'share');
  return path.join(dataHome, APP_FOLDER_NAME);
}

/**
 * The database file to open: an explicit `--db` path, else SGNAS_DB, else
 * registry.db in the default home.
 *
 * @param explicit The value of a `--db` option, if one was given.
 * @param env Environment to read (process.env by default).
 * @returns An absolute file path.
 */
export function resolveDbPath(explicit?: string, env: Env = process.env): string {
  if (explicit) return path.resolve(explicit);
  if (env.SGNAS_DB) return path.resolve(env.SGNAS_DB);
  return path.join(defaultHome(env), DB_FILE_NAME);
}

/**
 * The folder a run's files go in: <folder of the database>/runs/<runId>/.
 *
 * @param dbPath The registry's database file.
 * @param runId The run's id.
 */
export function runFolder(dbPath: string, runId: string): string {
  return path.join(path.dirname(path.resolve(dbPath)), 'runs', runId);
}

/**
 * Finds the committed drizzle/ migrations folder.
 *
 * Order: SGNAS_MIGRATIONS, then a `drizzle/` folder holding meta/_journal.json
 * in this module's folder or any folder above it (the repo root in dev and
 * tests; the app root, inside or beside app.asar, in an Electron build that
 * copies drizzle/ there), then the same walk from the working directory.
 *
 * @param env Environment to read (process.env by default).
 * @returns The folder's absolute path.
 * @throws Error listing the places searched when none holds the journal.
 */
export function findMigrationsFolder(env: Env = process.env): string {
  if (env.SGNAS_MIGRATIONS) return path.resolve(env.SGNAS_MIGRATIONS);

  const starts = [moduleFolder(), process.cwd()].filter((d): d is string => d !== null);
  const searched: string[] = [];
  for (const start of starts) {
    let dir = start;
    for (;;) {
      const candidate = path.join(dir, 'drizzle');
      searched.push(candidate);
      if (fs.existsSync(path.join(candidate, 'meta', '_journal.json'))) return candidate;
      const parent = path.dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
  }

  throw new Error(
    `registry migrations not found: no drizzle/meta/_journal.json in ${searched.join(', ')}. ` +
      'Pass migrationsFolder to RunRegistry.open or set SGNAS_MIGRATIONS.',
  );
}

/** This module's folder, or null in a bundle format without import.meta.url. */
function moduleFolder(): string | null {
  try {
    return path.dirname(fileURLToPath(import.meta.url));
  } catch {
    return null;
  }
}

/**
 * `npm run serve -- --port PORT`: the workbench in a browser. Serves the
 * built renderer and the API on 127.0.0.1 and prints exactly one line, the
 * page's full URL with its token, once it is ready. Everything else goes to
 * stderr, so scripts can read the URL from stdout.
 */
import path from 'node:path';

import { openWorkbench } from '../api/workbench.js';
import { resolveDbPath } from '../registry/paths.js';
import { startServer } from '../serve/server.js';
import { formatOptions, parseArgs, UsageError, type OptionSpecs } from './args.js';

const repoRoot = path.resolve(import.meta.dirname, '..', '..');

const OPTIONS: OptionSpecs = {
  port: { kind: 'number', help: 'port on 127.0.0.1 (default 0: any free port)' },
  db: { kind: 'string', help: 'registry database file (default: SGNAS_DB or the data folder)' },
  renderer: { kind: 'string', help: 'built renderer folder (default out/renderer)' },
  resources: { kind: 'string', help: 'folder of shipped generators (default resources/)' },
  help: { kind: 'boolean', help: 'show this help' },
};

async function main(argv: string[]): Promise<void> {
  const { options } = parseArgs(argv, OPTIONS);
  if (options.help) {
    process.stderr.write(`usage: npm run serve -- [options]\n${formatOptions(OPTIONS)}\n`);
    return;
  }

  const port = (options.port as number | undefined) ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new UsageError(`--port must be an integer in 0..65535, got ${port}`);
  }

  const workbench = await openWorkbench({
    dbPath: resolveDbPath(options.db as string | undefined),
    resourcesDir: path.resolve(
      (options.resources as string | undefined) ?? path.join(repoRoot, 'resources'),
    ),
  });
  const server = await startServer({
    port,
    rendererDir: path.resolve(
      (options.renderer as string | undefined) ?? path.join(repoRoot, 'out', 'renderer'),
    ),
    handlers: workbench.handlers,
    service: workbench.service,
  }).catch(async (err: Error) => {
    await workbench.close();
    throw err;
  });

  process.stdout.write(`${server.url}\n`);
  process.stderr.write(`sgnas serve: registry ${workbench.registry.dbPath}; Ctrl-C stops\n`);

  const stop = async (signal: string) => {
    process.stderr.write(`sgnas serve: ${signal}, closing\n`);
    await server.close();
    await workbench.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
}

main(process.argv.slice(2)).catch((err: Error) => {
  const prefix = err instanceof UsageError ? 'usage error' : 'error';
  process.stderr.write(`sgnas serve: ${prefix}: ${err.message}\n`);
  process.exit(err instanceof UsageError ? 2 : 1);
});

/**
 * Assembles the workbench behind both transports: the registry, the job
 * runner, the generator catalog, the service and its validated handlers.
 * The Electron main process and `npm run serve` both open it this way.
 */
import { JobRunner } from '../jobs/jobRunner.js';
import { RunRegistry } from '../registry/index.js';
import { createGeneratorCatalog } from './generators.js';
import { createHandlers, type ApiHandlers } from './handlers.js';
import { RegistryWorkbenchService } from './service.js';

export interface WorkbenchOptions {
  /** The registry database file (resolveDbPath() gives the default). */
  dbPath?: string;
  /** The resources folder that may hold shipped generators. */
  resourcesDir: string;
}

export interface Workbench {
  registry: RunRegistry;
  service: RegistryWorkbenchService;
  handlers: ApiHandlers;
  /**
   * Stops the runs in progress (their workers record them interrupted, so
   * they can be resumed), then closes the service and the registry.
   */
  close(): Promise<void>;
}

/**
 * Opens the registry (applying migrations, marking runs of dead processes
 * interrupted) and builds the service over it.
 *
 * @throws RegistryError when the database cannot be opened (see RunRegistry.open).
 */
export async function openWorkbench(options: WorkbenchOptions): Promise<Workbench> {
  const registry = await RunRegistry.open(options.dbPath);
  await registry.markDeadRunsInterrupted();

  const jobs = new JobRunner({ registry });
  const generators = createGeneratorCatalog(registry, options.resourcesDir);
  const service = new RegistryWorkbenchService({ registry, jobs, generators });

  return {
    registry,
    service,
    handlers: createHandlers(service),
    async close() {
      // Before the registry closes: each worker writes its own 'interrupted'.
      await jobs.shutdown();
      service.close();
      generators.close();
      registry.close();
    },
  };
}

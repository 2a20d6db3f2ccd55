/**
 * Opening a run folder that `sgnas search` trained, for the experiments that
 * work on its supernet (and generator): the same configuration, data split
 * and networks the search used.
 */
import { readRunConfig, runPaths } from '../pipeline/runFolder.js';
import {
  closeSearch,
  loadTrainedNetworks,
  openSearch,
  type SearchContext,
  type SearchHooks,
} from '../pipeline/search.js';
import { latestCheckpoint, loadCheckpoint } from '../train/checkpoint.js';

/**
 * Opens a trained run folder and loads its newest supernet checkpoint, and
 * its generator's when asked.
 *
 * @param withGenerator also load the generator (needed to generate).
 * @throws Error naming the folder and the command to run when it is not a
 *   run folder or lacks a trained network.
 */
export async function openTrainedRun(
  runDir: string,
  withGenerator: boolean,
  hooks: SearchHooks = {},
): Promise<SearchContext> {
  const config = readRunConfig(runDir);
  const ctx = await openSearch(config, runDir, hooks);
  try {
    if (withGenerator) {
      await loadTrainedNetworks(ctx);
      return ctx;
    }
    const dir = await latestCheckpoint(runPaths(runDir).checkpoints, 'supernet');
    if (!dir) {
      throw new Error(
        `${runDir} has no trained supernet checkpoint: run \`sgnas search --out ${runDir}\` ` +
          '(or `sgnas train-supernet --run DIR`) first',
      );
    }
    await loadCheckpoint(dir, { store: ctx.supernet.store });
    return ctx;
  } catch (err) {
    closeSearch(ctx);
    throw err;
  }
}

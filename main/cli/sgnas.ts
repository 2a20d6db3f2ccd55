/**
 * The sgnas command line: the whole search, its stages one at a time, the
 * cost of an architecture, and the run registry.
 *
 *   sgnas search [options]            train supernet + generator, sweep budgets
 *   sgnas train-supernet --run DIR    one stage of a run folder
 *   sgnas train-generator --run DIR
 *   sgnas generate --run DIR --budgets 1.9,2.4,3.1
 *   sgnas evaluate --run DIR [--sweep-budgets N]
 *   sgnas cost --preset NAME --arch FILE [--classes N]
 *   sgnas runs list|show|resume|cancel|export ...
 *   sgnas baseline-random|baseline-evolution|compare-search|random-subnets|train-scratch
 *   sgnas ablation|prior-study
 */
import { formatOptions, UsageError } from './args.js';
import { costCommand } from './costCommand.js';
import {
  ablationCommand,
  baselineCommand,
  compareCommand,
  priorStudyCommand,
  randomSubnetsCommand,
  trainScratchCommand,
} from './experimentCommands.js';
import { searchCommand, stageCommand } from './searchCommand.js';
import { runsCommand } from './runs.js';
import { executeSearchRun } from '../jobs/searchJob.js';
import { SEARCH_OPTIONS } from './searchOptions.js';

const USAGE = `usage: sgnas <command> [options]

commands:
  search             the whole SGNAS search on the default (or --data) dataset
  train-supernet     train (or resume) the supernet of a run folder (--run DIR)
  train-generator    train (or resume) the generator of a run folder (--run DIR)
  generate           architectures for --budgets a,b,c from a trained run folder
  evaluate           a sweep of budgets over the constraint interval, with tau and Pearson
  cost               FLOPs and parameters of an architecture file (--arch FILE)
  runs               the run registry: list, show, resume, cancel, export
  baseline-random    random search per budget on a trained supernet (--run DIR)
  baseline-evolution evolutionary search per budget on a trained supernet (--run DIR)
  compare-search     SGNAS vs random search vs evolution for --budgets N (Table 1)
  random-subnets     K random architectures against the generator's (--run DIR)
  train-scratch      train an architecture's stand-alone network, test, export
  ablation           four supernets (neither, FS, SBN, both) scoring the same K architectures
  prior-study        generators from four priors of different quality (--run DIR)

search options:
${formatOptions(SEARCH_OPTIONS)}

Run \`sgnas <command> --help\` for a command's own options.`;

/** Runs one command; resolves to the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const io = { stdout: process.stdout, stderr: process.stderr };

  try {
    switch (command) {
      case 'search':
        return await searchCommand(rest);
      case 'train-supernet':
      case 'train-generator':
      case 'generate':
      case 'evaluate':
        return await stageCommand(command, rest);
      case 'cost':
        return await costCommand(rest);
      case 'baseline-random':
      case 'baseline-evolution':
        return await baselineCommand(command, rest);
      case 'compare-search':
        return await compareCommand(rest);
      case 'random-subnets':
        return await randomSubnetsCommand(rest);
      case 'train-scratch':
        return await trainScratchCommand(rest);
      case 'ablation':
        return await ablationCommand(rest);
      case 'prior-study':
        return await priorStudyCommand(rest);
      case 'runs':
        return await runsCommand(rest, io, {
          resume: async (run, registry) => {
            if (run.kind !== 'search') {
              throw new UsageError(
                `run ${run.id} is a ${run.kind} run, which keeps no checkpoint to resume ` +
                  `from: start it again (sgnas ${run.kind} ...)`,
              );
            }
            await executeSearchRun(registry, run.id, { log: (line) => console.log(line) });
          },
        });
      case undefined:
      case '--help':
      case 'help':
        console.log(USAGE);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command '${command}'; commands: search, train-supernet, ` +
          'train-generator, generate, evaluate, cost, runs, baseline-random, ' +
          'baseline-evolution, compare-search, random-subnets, train-scratch, ablation, ' +
          'prior-study');
    }
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`sgnas ${command ?? ''}: ${err.message}`);
      return 2;
    }
    console.error(`sgnas ${command ?? ''} failed: ${(err as Error).message}`);
    return 1;
  }
}

const code = await main(process.argv.slice(2));
process.exitCode = code;

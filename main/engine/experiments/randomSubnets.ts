/**
 * The random-subnet study: K uniformly random architectures of the space
 * against the architectures the generator produces for a sweep of budgets,
 * all scored by the same ArchitectureScorer on the same supernet. A point of
 * the generator above the random cloud at its FLOPs is what the paper shows.
 */
import { Rng } from '../rng.js';
import { buildPrior, runSweepStage, type SearchContext } from '../pipeline/search.js';
import { formatArchitecture } from '../space/architecture.js';
import { flopsM } from '../space/costModel.js';
import { randomArchitecture } from '../space/sampling.js';
import { yieldToEventLoop } from '../train/eventLoop.js';
import { budgetsFor } from './baselines.js';
import { SearchCancelledError } from './baselineTypes.js';
import type { ExperimentHooks } from './hooks.js';
import type { ArchitectureScorer } from './scorer.js';
import type { RandomSubnetsReport, StudyPoint } from './reports.js';

export type { RandomSubnetsReport, StudyPoint } from './reports.js';

export interface RandomSubnetsOptions {
  /** K: random architectures scored. */
  samples: number;
  /** Budgets the generator is asked for, spread over the constraint interval. */
  budgets: number;
  seed: number;
}

/**
 * The share of random points at or below `flops` that `accuracy` matches or
 * beats; undefined when no random point is that cheap, since there is then
 * nothing to compare with (counting it as a win would inflate the mean).
 */
export function beatsShare(random: readonly StudyPoint[], flops: number,
  accuracy: number): number | undefined {
  const cheaper = random.filter((r) => r.flopsM <= flops);
  if (cheaper.length === 0) return undefined;
  return cheaper.filter((r) => accuracy >= r.accuracy).length / cheaper.length;
}

/**
 * The mean share over the generated points that have one; NaN (null in the
 * JSON report) when none has a random point as cheap as itself.
 */
export function meanBeatsShare(generated: readonly StudyPoint[]): number {
  const shares = generated.flatMap((g) => (g.beatsShare === undefined ? [] : [g.beatsShare]));
  return shares.length === 0 ? Number.NaN : shares.reduce((s, v) => s + v, 0) / shares.length;
}

/**
 * Runs the study on a trained run folder's networks.
 *
 * @param ctx an opened run with its supernet and generator loaded.
 * @throws RangeError for samples or budgets below 1; SearchCancelledError on abort.
 */
export async function randomSubnetStudy(
  ctx: SearchContext,
  scorer: ArchitectureScorer,
  options: RandomSubnetsOptions,
  hooks: ExperimentHooks = {},
): Promise<RandomSubnetsReport> {
  if (!Number.isInteger(options.samples) || options.samples < 1) {
    throw new RangeError(
      `the study needs samples >= 1 random architectures, got ${options.samples}`,
    );
  }
  const rng = new Rng(options.seed);
  const random: StudyPoint[] = [];
  for (let i = 0; i < options.samples; i++) {
    if (hooks.signal?.aborted) throw new SearchCancelledError('random-subnets', 0, i);
    const arch = randomArchitecture(ctx.preset, ctx.options, rng);
    const point = {
      flopsM: flopsM(arch, ctx.preset),
      accuracy: scorer.score(arch),
      architecture: formatArchitecture(arch),
    };
    random.push(point);
    const value = point.accuracy;
    hooks.onMetrics?.([{ stage: 'random', epoch: 0, step: i + 1, name: 'accuracy', value }]);
    hooks.onProgress?.((i + 1) / (options.samples + options.budgets), 'random');
    await yieldToEventLoop();
  }

  const budgetsM = budgetsFor(ctx.constraint, options.budgets);
  const { results } = await runSweepStage(ctx, buildPrior(ctx), budgetsM, false);
  const generated = results.map((r, i) => {
    const accuracy = scorer.score(r.architecture);
    const point = { stage: 'generated', epoch: 0, step: i + 1, name: 'accuracy' };
    hooks.onMetrics?.([{ ...point, value: accuracy }]);
    const share = beatsShare(random, r.flopsM, accuracy);
    return {
      targetM: r.targetM,
      flopsM: r.flopsM,
      accuracy,
      architecture: formatArchitecture(r.architecture),
      ...(share === undefined ? {} : { beatsShare: share }),
    };
  });

  const mean = meanBeatsShare(generated);
  const compared = generated.filter((g) => g.beatsShare !== undefined).length;
  hooks.log?.(
    `[random-subnets] ${random.length} random, ${generated.length} generated; ` +
      (compared === 0
        ? 'no random architecture is as cheap as any generated one, so none is compared'
        : `over the ${compared} generated architectures with a random one as cheap, they ` +
          `match or beat ${(mean * 100).toFixed(1)}% of the random ones with no more FLOPs`),
  );
  return { random, generated, meanBeatsShare: mean };
}

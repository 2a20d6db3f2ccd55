// @vitest-environment happy-dom
/**
 * The experiment result charts are pure functions of a parsed
 * `results/experiment.json`: each test hands a builder a report written out
 * here and checks that the series carry the report's own values, that the
 * axes name their units, that the CSV holds the same numbers, and that
 * ECharts (SVG renderer; canvas does not work in happy-dom) draws it.
 */
import { describe, expect, it } from 'vitest';

import type {
  AblationReport,
  BaselineReport,
  CompareSearchReport,
  MetricPoint,
  PriorStudyReport,
  RandomSubnetsReport,
  ScratchResult,
} from '../../main/api/contract.js';
import {
  baselineCsv,
  buildBaselineAccuracyOption,
  buildBaselineFlopsOption,
  buildComparePicksOption,
  buildSearchSecondsOption,
  compareArchitectureMethods,
  compareRows,
  compareSearchCsv,
  percentLabel,
} from '../../renderer/src/charts/experiments.js';
import { accuracyAxisMin } from '../../renderer/src/charts/accuracyAxis.js';
import { buildCurves, buildCurvesOption } from '../../renderer/src/charts/curves.js';
import {
  ablationReportCsv,
  buildAblationReportOption,
  buildAblationTauOption,
  buildPriorStudyOption,
  buildRandomSubnetsOption,
  buildScratchLossOption,
  experimentStageColors,
  priorStudyCsv,
  randomSubnetsCsv,
  scratchCsv,
  scratchLossPoints,
} from '../../renderer/src/charts/experimentsStudies.js';
import { renderSvg } from '../../renderer/src/charts/exportChart.js';

interface Series {
  name: string;
  type: string;
  data: unknown[];
  markLine?: { data: { xAxis: number }[] };
}
interface Axis {
  name: string;
  axisLabel?: { formatter: (v: number) => string };
}
type Option = { series?: unknown; xAxis?: unknown; yAxis?: unknown; title?: unknown };

const seriesOf = (option: Option) => option.series as Series[];
const series = (option: Option, name: string) => {
  const found = seriesOf(option).find((s) => s.name === name);
  if (!found) throw new Error(`no series "${name}" in ${seriesOf(option).map((s) => s.name)}`);
  return found;
};
const xAxis = (option: Option) => option.xAxis as Axis;
const yAxis = (option: Option) => option.yAxis as Axis;
/** CSV data rows (header dropped), cells split on commas (the fixtures quote none). */
const csvRows = (csv: string) => csv.trim().split('\r\n').slice(1).map((r) => r.split(','));

const scoring = { validationImages: 200, recalibrationBatches: 1, recalibrationBatchSize: 64,
  seed: 0, validationCount: 200 };

const compare: CompareSearchReport = {
  sgnas: {
    searchSeconds: 12.5,
    generatorTrainSeconds: 12.2,
    generationSeconds: 0.3,
    timeSource: 'measured',
    budgets: [
      { targetM: 1.0, flopsM: 0.98, accuracy: 0.61, architecture: '33---- 555---' },
      { targetM: 2.0, flopsM: 1.93, accuracy: 0.7, architecture: '35---- 577---' },
    ],
  },
  random: {
    searchSeconds: 40.25,
    evaluations: 200,
    budgets: [
      { targetM: 1.0, flopsM: 0.91, accuracy: 0.58, architecture: '3----- 55----' },
      { targetM: 2.0, flopsM: 1.8, accuracy: 0.66, architecture: '33---- 55----' },
    ],
  },
  evolution: {
    searchSeconds: 75,
    evaluations: 300,
    budgets: [
      { targetM: 1.0, flopsM: 0.99, accuracy: 0.6, architecture: '33---- 553---' },
      { targetM: 2.0, flopsM: 1.99, accuracy: 0.69, architecture: '37---- 557---' },
    ],
  },
  budgetsM: [1.0, 2.0],
  runDir: '/tmp/run',
  supernetTrainSeconds: 300,
  backend: 'wasm',
  scoring,
  baselines: {
    seed: 0,
    random: { samples: 100 },
    evolution: { population: 20, parents: 5, generations: 5, mutationShare: 0.5,
      mutationRate: 0.1 },
  },
};

describe('compare-search charts', () => {
  it('draws each method\'s total search seconds as one bar, in seconds', () => {
    const option = buildSearchSecondsOption(compare);
    const bars = series(option, 'search time (s)');

    expect(bars.type).toBe('bar');
    expect((bars.data as { value: number }[]).map((d) => d.value)).toEqual([12.5, 40.25, 75]);
    expect((option.xAxis as { data: string[] }).data)
      .toEqual(['SGNAS', 'random search', 'evolution']);
    expect(yAxis(option).name).toBe('search time (s)');
    // The shared supernet is paid once for all three: the chart says it is left out.
    expect((option.title as { subtext: string }).subtext).toContain('300.0 s');
  });

  it('scatters each method\'s picks as (found MFLOPs, accuracy) with the budgets marked', () => {
    const option = buildComparePicksOption(compare);

    expect(series(option, 'SGNAS').data).toEqual([[0.98, 0.61], [1.93, 0.7]]);
    expect(series(option, 'random search').data).toEqual([[0.91, 0.58], [1.8, 0.66]]);
    expect(series(option, 'evolution').data).toEqual([[0.99, 0.6], [1.99, 0.69]]);
    expect(series(option, 'budgets').markLine!.data).toEqual([{ xAxis: 1 }, { xAxis: 2 }]);
    expect(xAxis(option).name).toBe('FLOPs (MFLOPs)');
    expect(yAxis(option).name).toBe('supernet accuracy (%)');
    // The axis spans the largest budget (2.0) though no pick reaches it, so its line shows.
    const { min, max } = option.xAxis as { min: number; max: number };
    expect(min).toBeLessThanOrEqual(0.91);
    expect(max).toBeGreaterThanOrEqual(2);
    // Values stay fractions; only the tick labels are percentages.
    expect(yAxis(option).axisLabel!.formatter(0.615)).toBe('61.5%');
  });

  it('tabulates each budget with every method\'s pick in order', () => {
    const rows = compareRows(compare);
    expect(rows.map((r) => r.targetM)).toEqual([1, 2]);
    expect(rows[1].picks.map((p) => [p.method, p.flopsM, p.accuracy])).toEqual([
      ['SGNAS', 1.93, 0.7],
      ['random search', 1.8, 0.66],
      ['evolution', 1.99, 0.69],
    ]);
  });

  it('exports every pick with its method\'s total seconds as CSV', () => {
    const rows = csvRows(compareSearchCsv(compare));
    expect(rows).toHaveLength(6);
    expect(rows[0]).toEqual(['sgnas', '1', '0.98', '0.61', '33---- 555---', '12.5']);
    expect(rows[5]).toEqual(['evolution', '2', '1.99', '0.69', '37---- 557---', '75']);
  });

  it('renders both charts to SVG with their axis names', () => {
    const picks = renderSvg(buildComparePicksOption(compare), 640, 400);
    expect(picks).toContain('FLOPs (MFLOPs)');
    // The accuracy axis's ticks print as percentages.
    expect(picks).toMatch(/>\d+(\.\d+)?%</);
    expect(renderSvg(buildSearchSecondsOption(compare), 640, 400)).toContain('search time (s)');
  });
});

const baseline: BaselineReport = {
  method: 'evolution',
  searchSeconds: 9.5,
  budgets: [
    { targetM: 1.2, flopsM: 1.19, accuracy: 0.55, evaluations: 40, seconds: 4.5,
      architecture: '33---- 55----' },
    { targetM: 1.8, flopsM: 1.62, accuracy: 0.63, evaluations: 38, seconds: 5,
      architecture: '35---- 57----' },
  ],
};

describe('baseline charts', () => {
  it('plots found FLOPs against each budget beside the y = x budget line', () => {
    const option = buildBaselineFlopsOption(baseline);

    expect(series(option, 'best found').data).toEqual([[1.2, 1.19], [1.8, 1.62]]);
    // The line spans every value on both axes, so each pick reads against it.
    expect(series(option, 'budget (y = x)').data).toEqual([[1.19, 1.19], [1.8, 1.8]]);
    expect(xAxis(option).name).toBe('budget (MFLOPs)');
    expect(yAxis(option).name).toBe('found (MFLOPs)');
    expect((option.title as { text: string }).text).toContain('evolution');
  });

  it('plots the best accuracy against each budget', () => {
    const option = buildBaselineAccuracyOption(baseline);
    expect(series(option, 'best accuracy').data).toEqual([[1.2, 0.55], [1.8, 0.63]]);
    expect(xAxis(option).name).toBe('budget (MFLOPs)');
    expect(yAxis(option).name).toBe('supernet accuracy (%)');
  });

  it('exports each budget\'s pick, evaluations and seconds as CSV', () => {
    expect(csvRows(baselineCsv(baseline))).toEqual([
      ['evolution', '1.2', '1.19', '0.55', '40', '4.5', '33---- 55----'],
      ['evolution', '1.8', '1.62', '0.63', '38', '5', '35---- 57----'],
    ]);
  });
});

const subnets: RandomSubnetsReport = {
  random: [
    { flopsM: 1.1, accuracy: 0.4, architecture: 'a' },
    { flopsM: 1.6, accuracy: 0.5, architecture: 'b' },
    { flopsM: 2.1, accuracy: 0.45, architecture: 'c' },
  ],
  generated: [
    { flopsM: 1.5, accuracy: 0.52, architecture: 'g1', targetM: 1.5, beatsShare: 1 },
    { flopsM: 2.0, accuracy: 0.49, architecture: 'g2', targetM: 2, beatsShare: 0.5 },
  ],
  meanBeatsShare: 0.75,
};

describe('random-subnets chart', () => {
  it('scatters the random and the generated architectures as (MFLOPs, accuracy)', () => {
    const option = buildRandomSubnetsOption(subnets);

    expect(series(option, 'random (3)').data).toEqual([[1.1, 0.4], [1.6, 0.5], [2.1, 0.45]]);
    expect(series(option, 'generated (2)').data).toEqual([[1.5, 0.52], [2.0, 0.49]]);
    expect(xAxis(option).name).toBe('FLOPs (MFLOPs)');
    expect(yAxis(option).name).toBe('supernet accuracy (%)');
    expect((option.title as { subtext: string }).subtext).toContain('75.0%');
  });

  it('exports both sets, with the generated points\' targets and beat shares', () => {
    const rows = csvRows(randomSubnetsCsv(subnets));
    expect(rows).toHaveLength(5);
    expect(rows[0]).toEqual(['random', '', '1.1', '0.4', '', 'a']);
    expect(rows[4]).toEqual(['generated', '2', '2', '0.49', '0.5', 'g2']);
  });
});

function ablationSetting(name: 'neither' | 'fs' | 'sbn' | 'fs-sbn', fs: boolean, sbn: boolean,
  accuracies: number[]): AblationReport['settings'][number] {
  const points = accuracies.map((accuracy, i) => ({ flopsM: 1 + i, accuracy,
    architecture: `arch${i}` }));
  const mean = accuracies.reduce((s, a) => s + a, 0) / accuracies.length;
  return { name, forcedSampling: fs, shadowBatchNorm: sbn, runDir: `/tmp/${name}`,
    supernetSeconds: 10, projectionBatchNorms: sbn ? 4 : 1, trainingPaths: [], points,
    meanAccuracy: mean, stdAccuracy: 0.01, scoringSeconds: 2 };
}

const ablation: AblationReport = {
  settings: [
    ablationSetting('neither', false, false, [0.3, 0.35, 0.32]),
    ablationSetting('fs', true, false, [0.4, 0.42, 0.45]),
    ablationSetting('sbn', false, true, [0.33, 0.36, 0.3]),
    ablationSetting('fs-sbn', true, true, [0.5, 0.55, 0.52]),
  ],
  architectures: [0, 1, 2].map((i) => ({ architecture: `arch${i}`, flopsM: 1 + i })),
  kendallTau: [
    { a: 'neither', b: 'fs', tau: 0.333 },
    { a: 'fs', b: 'fs-sbn', tau: null },
  ],
  samples: 3,
  seed: 0,
  preset: 'fmnist',
  classes: 10,
  backend: 'wasm',
  scoring,
};

describe('ablation charts', () => {
  it('scatters each setting\'s accuracies over the shared architectures\' FLOPs', () => {
    const option = buildAblationReportOption(ablation);

    // The report's order, which is the paper's (Fig 6a).
    expect(seriesOf(option).map((s) => s.name)).toEqual([
      'FS off, SBN off', 'FS on, SBN off', 'FS off, SBN on', 'FS on, SBN on',
    ]);
    expect(series(option, 'FS on, SBN on').data).toEqual([[1, 0.5], [2, 0.55], [3, 0.52]]);
    expect(series(option, 'FS off, SBN off').data).toEqual([[1, 0.3], [2, 0.35], [3, 0.32]]);
    expect(xAxis(option).name).toBe('FLOPs (MFLOPs)');
    expect(yAxis(option).name).toBe('supernet accuracy (%)');
  });

  it('shows each pair\'s Kendall tau as a bar, leaving an undefined tau empty', () => {
    const option = buildAblationTauOption(ablation);

    expect((option.xAxis as { data: string[] }).data).toEqual([
      'neither vs FS',
      'FS vs FS+SBN',
    ]);
    expect(series(option, 'Kendall tau-b').data).toEqual([0.333, null]);
    expect(yAxis(option).name).toBe('Kendall tau-b (−1…1)');
  });

  it('exports every scored point and every tau as CSV', () => {
    const rows = csvRows(ablationReportCsv(ablation));
    expect(rows).toHaveLength(4 * 3 + 2);
    expect(rows[3]).toEqual(['fs', 'true', 'false', '1', '0.4', 'arch0', '', '']);
    expect(rows[13].slice(-2)).toEqual(['fs vs fs-sbn', '']);
  });

  it('renders the scatter to SVG', () => {
    const svg = renderSvg(buildAblationReportOption(ablation), 640, 400);
    expect(svg).toContain('FS off, SBN on');
    expect(svg).toContain('FLOPs (MFLOPs)');
  });
});

function prior(rank: PriorStudyReport['priors'][number]['rank'], accuracy: number,
  picks: [number, number, number][]): PriorStudyReport['priors'][number] {
  return {
    rank,
    prior: { seed: 3, architecture: `prior-${rank}`, flopsM: 1.5, accuracy },
    runDir: `/tmp/${rank}`,
    generatorSeconds: 20,
    budgets: picks.map(([targetM, flopsM, acc]) => ({ targetM, flopsM, accuracy: acc,
      architecture: `${rank}@${targetM}` })),
    meanAccuracy: picks.reduce((s, p) => s + p[2], 0) / picks.length,
    kendallTau: 1,
    pearson: 0.9,
    meanAbsErrorM: 0.05,
    overBudget: 0,
  };
}

const priors: PriorStudyReport = {
  candidates: [],
  priors: [
    prior('worst', 0.21, [[1, 0.9, 0.4], [2, 1.8, 0.45]]),
    prior('best', 0.48, [[1, 0.97, 0.5], [2, 1.95, 0.58]]),
  ],
  budgetsM: [1, 2],
  flopsRangeM: { minM: 0.5, maxM: 3 },
  generator: {} as PriorStudyReport['generator'],
  preset: 'fmnist',
  classes: 10,
};

describe('prior-study chart', () => {
  it('scatters each prior\'s generated picks, its own accuracy in the legend', () => {
    const option = buildPriorStudyOption(priors);

    expect(series(option, 'worst prior (21.0%)').data).toEqual([[0.9, 0.4], [1.8, 0.45]]);
    expect(series(option, 'best prior (48.0%)').data).toEqual([[0.97, 0.5], [1.95, 0.58]]);
    expect(series(option, 'budgets').markLine!.data).toEqual([{ xAxis: 1 }, { xAxis: 2 }]);
    expect(xAxis(option).name).toBe('FLOPs (MFLOPs)');
    expect(yAxis(option).name).toBe('supernet accuracy (%)');
  });

  it('exports every pick with its prior\'s accuracy as CSV', () => {
    const rows = csvRows(priorStudyCsv(priors));
    expect(rows).toHaveLength(4);
    expect(rows[3]).toEqual(['best', '0.48', 'prior-best', '2', '1.95', '0.58', 'best@2']);
  });
});

function lossRow(id: number, epoch: number, step: number, value: number): MetricPoint {
  return { id, stage: 'train', epoch, step, name: 'loss', value, at: id };
}

const scratch: ScratchResult = {
  architecture: '33---- 555---',
  flopsM: 1.234,
  params: 54321,
  testAccuracy: 0.8125,
  testImages: 1000,
  trainImages: 4000,
  epochLosses: [2.0, 1.5],
  trainSeconds: 42,
  exportDir: '/tmp/run/export',
};

const scratchMetrics: MetricPoint[] = [
  lossRow(1, 1, 1, 2.2),
  lossRow(2, 1, 2, 1.8),
  lossRow(3, 2, 1, 1.6),
  lossRow(4, 2, 2, 1.4),
  // Another stage's loss (none today) must not join the training curve.
  { ...lossRow(5, 1, 1, 9), stage: 'eval' },
];

describe('train-scratch chart', () => {
  it('places each logged step on the epoch axis: step s of S in epoch e at e - 1 + s / S', () => {
    expect(scratchLossPoints(scratchMetrics)).toEqual([[0.5, 2.2], [1, 1.8], [1.5, 1.6],
      [2, 1.4]]);
  });

  it('draws the step losses and the report\'s epoch means, with accuracy and export', () => {
    const option = buildScratchLossOption(scratch, scratchMetrics);

    expect(series(option, 'loss per step').data).toEqual(scratchLossPoints(scratchMetrics));
    expect(series(option, 'epoch mean').data).toEqual([[1, 2.0], [2, 1.5]]);
    expect(xAxis(option).name).toBe('epoch');
    expect(yAxis(option).name).toBe('training loss (cross-entropy)');
    const subtext = (option.title as { subtext: string }).subtext;
    expect(subtext).toContain('test accuracy 81.25%');
    expect(subtext).toContain('/tmp/run/export');
  });

  it('exports the epoch means then the steps as CSV', () => {
    const rows = csvRows(scratchCsv(scratch, scratchMetrics));
    expect(rows.slice(0, 2)).toEqual([['epoch mean', '1', '2'], ['epoch mean', '2', '1.5']]);
    expect(rows).toHaveLength(2 + 4);
  });
});

describe('accuracy tick labels', () => {
  it('print fractions as percentages without binary noise', () => {
    expect(percentLabel(0.07)).toBe('7%');
    expect(percentLabel(0.1234)).toBe('12.34%');
  });
});

/** Only the axis is under test: a report without budgets still has one. */
const baselineReportForAxis = {
  method: 'evolution', budgets: [], searchSeconds: 0,
} as unknown as BaselineReport;

describe('one look across the page of an experiment run', () => {
  const accuracyPoint = (id: number, stage: string, value: number): MetricPoint =>
    ({ id, stage, name: 'accuracy', epoch: 0, step: id, value, at: id });
  type Colored = { name: string; itemStyle: { color: string } };
  const colorOf = (option: Option, prefix: string) =>
    (option.series as Colored[]).find((s) => s.name.startsWith(prefix))?.itemStyle.color;

  it('gives random-subnets\' "random" and "generated" one colour each in both charts', () => {
    // Generated metrics first: the colour must follow the stage, not the order.
    const curves = buildCurves([accuracyPoint(1, 'generated', 0.16),
      accuracyPoint(2, 'random', 0.1)]);
    const metricChart = buildCurvesOption(curves, 'accuracy',
      experimentStageColors('random-subnets')) as Option;
    const resultChart = buildRandomSubnetsOption(subnets) as Option;

    expect(colorOf(metricChart, 'random /')).toBe(colorOf(resultChart, 'random ('));
    expect(colorOf(metricChart, 'generated /')).toBe(colorOf(resultChart, 'generated ('));
    expect(colorOf(resultChart, 'random (')).not.toBe(colorOf(resultChart, 'generated ('));
  });

  it('colours compare-search\'s metric stages as its result charts colour the methods', () => {
    const curves = buildCurves([accuracyPoint(1, 'evolution', 0.1),
      accuracyPoint(2, 'sgnas', 0.2), accuracyPoint(3, 'random', 0.1)]);
    const metricChart = buildCurvesOption(curves, 'accuracy',
      experimentStageColors('compare-search')) as Option;
    const picks = buildComparePicksOption(compare) as Option;

    for (const [stage, label] of [['sgnas', 'SGNAS'], ['random', 'random search'],
      ['evolution', 'evolution']]) {
      expect(colorOf(metricChart, `${stage} /`)).toBe(colorOf(picks, label));
    }
  });

  it('labels the metric chart\'s accuracy in percent, as the result tables do', () => {
    const option = buildCurvesOption(buildCurves([accuracyPoint(1, 'random', 0.12)]),
      'accuracy') as Option;
    const axis = yAxis(option);

    expect(axis.name).toBe('accuracy (%)');
    expect(axis.axisLabel?.formatter(0.125)).toBe('12.5%');
  });

  it('starts accuracy axes on a multiple of 5 %, below the lowest value', () => {
    // The tester's evolution run: lowest best accuracy 10 %, axis started at 9.9 %.
    expect(accuracyAxisMin({ min: 0.1 })).toBe(0.05);
    expect(accuracyAxisMin({ min: 0.099 })).toBe(0.05);
    expect(accuracyAxisMin({ min: 0.123 })).toBe(0.1);
    expect(accuracyAxisMin({ min: 0.02 })).toBe(0);
    const baseline = buildBaselineAccuracyOption(baselineReportForAxis) as Option;
    const min = (baseline.yAxis as { min: (e: { min: number }) => number }).min;
    expect(min({ min: 0.1 })).toBe(0.05);
    const curves = buildCurvesOption(buildCurves([accuracyPoint(1, 'x', 0.1)]), 'accuracy');
    expect((curves.yAxis as { min: (e: { min: number }) => number }).min({ min: 0.31 }))
      .toBe(0.3);
  });
});

describe('compare-search architectures', () => {
  const records = (['sgnas', 'random', 'evolution'] as const).flatMap((m, mi) =>
    compare[m].budgets.map((b, bi) => ({ id: 10 + mi * 2 + bi, budgetM: b.targetM,
      compact: b.architecture })));

  it('names the method of each recorded architecture from the order the run records them',
    () => {
      expect(compareArchitectureMethods(compare, records)).toEqual({
        10: 'SGNAS', 11: 'SGNAS', 12: 'random search', 13: 'random search',
        14: 'evolution', 15: 'evolution',
      });
    });

  it('tells apart two methods that found the same architecture by its place', () => {
    const same: CompareSearchReport = { ...compare, evolution: { ...compare.evolution,
      budgets: compare.random.budgets } };
    const twin = (['sgnas', 'random', 'evolution'] as const).flatMap((m, mi) =>
      same[m].budgets.map((b, bi) => ({ id: mi * 2 + bi, budgetM: b.targetM,
        compact: b.architecture })));

    expect(compareArchitectureMethods(same, twin)[2]).toBe('random search');
    expect(compareArchitectureMethods(same, twin)[4]).toBe('evolution');
  });

  it('falls back to matching text and budget when records are missing', () => {
    const partial = [records[5], records[0]];
    expect(compareArchitectureMethods(compare, partial)).toEqual({ 15: 'evolution',
      10: 'SGNAS' });
  });
});

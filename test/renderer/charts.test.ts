// @vitest-environment happy-dom
/**
 * The chart option builders are pure functions of the data: these tests
 * check what each option draws, and that ECharts (SVG renderer, as canvas
 * does not work in happy-dom) actually renders it.
 */
import { describe, expect, it } from 'vitest';

import type { ArchitectureDetail, MetricPoint, RunSummary } from '../../main/api/contract.js';
import {
  ablationCsv,
  buildAblationDistributionOption,
  buildAblationScatterOption,
  fiveNumbers,
  groupAblations,
} from '../../renderer/src/charts/ablation.js';
import { buildLayerCostOption, differingLayers } from '../../renderer/src/charts/architecture.js';
import { toCsv } from '../../renderer/src/charts/csv.js';
import {
  buildCurves,
  buildCurvesOption,
  curvesCsv,
  hasFamily,
} from '../../renderer/src/charts/curves.js';
import { renderSvg } from '../../renderer/src/charts/exportChart.js';
import { kendallPValue, kendallTauB, pearson } from '../../renderer/src/charts/stats.js';
import { REFERENCE_COLOR, seriesColor } from '../../renderer/src/charts/palette.js';
import {
  buildTauOption,
  niceBounds,
  tauCsv,
  type TauSweep,
} from '../../renderer/src/charts/tau.js';

type Series = { name: string; type: string; data: unknown[] };
const seriesOf = (option: { series?: unknown }) => option.series as Series[];

function metric(
  id: number,
  stage: string,
  name: string,
  epoch: number,
  step: number,
  value: number,
) {
  return { id, stage, name, epoch, step, value, at: id } satisfies MetricPoint;
}

describe('curves', () => {
  const metrics = [
    metric(1, 'supernet', 'loss', 1, 1, 2.0),
    metric(2, 'supernet', 'accuracy', 1, 1, 0.2),
    // A resumed run re-sent this earlier step after a later one.
    metric(4, 'supernet', 'loss', 1, 3, 1.0),
    metric(5, 'supernet', 'loss', 1, 2, 1.5),
    metric(6, 'generator', 'loss', 1, 1, 0.9),
  ];

  it('draws one line per stage and metric, in step order', () => {
    const curves = buildCurves(metrics);
    const option = buildCurvesOption(curves, 'loss');

    expect(seriesOf(option).map((s) => s.name)).toEqual(['supernet / loss', 'generator / loss']);
    expect(seriesOf(option)[0].data).toEqual([
      [1, 2.0],
      [2, 1.5],
      [3, 1.0],
    ]);
  });

  it('ends the accuracy axis on the multiple of 5 % above the data, never past 1', () => {
    const option = buildCurvesOption(buildCurves(metrics), 'accuracy') as {
      yAxis: { max: (extent: { max: number }) => number };
    };
    // Strictly above: a top value of 20 % is a point under the axis end, not on it.
    expect(option.yAxis.max({ max: 0.125 })).toBe(0.15);
    expect(option.yAxis.max({ max: 0.2 })).toBe(0.25);
    expect(option.yAxis.max({ max: 0.97 })).toBe(1);
  });

  it('knows which charts would be empty, so the page leaves them out', () => {
    // A baseline search logs accuracy only; training from scratch loss only.
    const accuracyOnly = buildCurves([metric(1, 'random', 'accuracy', 0, 1, 0.1)]);
    expect(hasFamily(accuracyOnly, 'accuracy')).toBe(true);
    expect(hasFamily(accuracyOnly, 'loss')).toBe(false);
    expect(hasFamily(buildCurves([]), 'accuracy')).toBe(false);
  });

  it('keeps accuracy and loss on separate charts', () => {
    const option = buildCurvesOption(buildCurves(metrics), 'accuracy');
    expect(seriesOf(option).map((s) => s.name)).toEqual(['supernet / accuracy']);
  });

  it('exports every point as CSV', () => {
    const csv = curvesCsv(buildCurves(metrics)).trim().split('\r\n');
    expect(csv[0]).toBe('stage,metric,x,value');
    expect(csv).toHaveLength(1 + 5);
  });
});

describe('tau plot', () => {
  const sweeps: TauSweep[] = [
    {
      label: 'FS on',
      points: [
        { targetM: 1, flopsM: 1.1 },
        { targetM: 2, flopsM: 1.9 },
      ],
      tau: 1,
      pearson: 0.99,
      n: 2,
      pValue: 0.01,
    },
    {
      label: 'FS off',
      points: [{ targetM: 1.5, flopsM: 3 }],
      tau: 0.5,
      pearson: 0.6,
      n: 1,
      pValue: null,
    },
  ];

  it('overlays one scatter per sweep and a y = x line spanning every point', () => {
    const option = buildTauOption(sweeps);
    const series = seriesOf(option);

    expect(series.map((s) => `${s.type}:${s.name}`)).toEqual([
      'line:y = x',
      'scatter:FS on',
      'scatter:FS off',
    ]);
    const [start, end] = series[0].data as [number, number][];
    expect(start[0]).toBe(start[1]); // on the diagonal
    expect(end[0]).toBe(end[1]);
    expect(start[0]).toBeLessThan(1); // below the smallest value (1)...
    expect(end[0]).toBeGreaterThan(3); // ...above the largest (3)
  });

  it('colours each sweep from the palette and the y = x line grey, legend included', () => {
    const series = seriesOf(buildTauOption(sweeps)) as (Series & {
      itemStyle: { color: string };
    })[];
    // The legend swatch takes the item colour: the reference line must not
    // borrow the first palette colour, which the first sweep's points use.
    expect(series.map((s) => s.itemStyle.color)).toEqual([
      REFERENCE_COLOR,
      seriesColor(0),
      seriesColor(1),
    ]);
  });

  it('ends both axes on round values just outside the data', () => {
    // 0.5644..1.5685 padded by 5 % of the range, rounded out to tenths.
    expect(niceBounds([0.610096, 0.85, 1.5, 1.523])).toEqual([0.5, 1.6]);
    expect(niceBounds([270, 450])).toEqual([260, 460]);
    const option = buildTauOption(sweeps) as { xAxis: { min: number; max: number } };
    const [lo, hi] = niceBounds([1, 1.1, 2, 2.1, 1.5, 3]);
    expect([option.xAxis.min, option.xAxis.max]).toEqual([lo, hi]);
    expect(lo).toBeLessThan(1);
    expect(hi).toBeGreaterThan(3);
  });

  it('prints tau, Pearson, n and p for each sweep', () => {
    const subtext = (buildTauOption(sweeps).title as { subtext: string }).subtext;
    expect(subtext).toBe(
      'FS on: tau 1.000, Pearson 0.990, n 2, p 0.010\n' +
        'FS off: tau 0.500, Pearson 0.600, n 1, p –',
    );
  });

  it('renders to an SVG with the points drawn', () => {
    const svg = renderSvg(buildTauOption(sweeps), 600, 400);
    expect(svg.startsWith('<svg')).toBe(true);
    // Three scatter points are drawn as paths; the axis names appear as text.
    expect(svg).toContain('target (MFLOPs)');
    expect(svg).toContain('FS off');
    expect((svg.match(/<path/g) ?? []).length).toBeGreaterThan(10);
  });

  it('exports the points with their sweep statistics as CSV', () => {
    expect(tauCsv(sweeps).split('\r\n')[1]).toBe('FS on,1,1.1,1,0.99,2,0.01');
  });
});

describe('sweep statistics', () => {
  it('gives tau-b 1 and Pearson 1 for a perfectly increasing sweep', () => {
    expect(kendallTauB([1, 2, 3, 4], [10, 20, 30, 40])).toBe(1);
    expect(pearson([1, 2, 3, 4], [10, 20, 30, 40])).toBeCloseTo(1, 12);
  });

  it('accounts for ties in tau-b: (C - D) / sqrt((n0 - n1)(n0 - n2))', () => {
    // Pairs: (1,2) tie in y, (1,3) and (2,3) concordant: (2 - 0) / sqrt(3 * 2).
    expect(kendallTauB([1, 2, 3], [5, 5, 6])).toBeCloseTo(2 / Math.sqrt(6), 12);
  });

  it('gives a small p-value for 20 perfectly ranked points and 1 for tau 0', () => {
    // z = 3 * sqrt(380) / sqrt(90) = 6.16, p about 7e-10.
    expect(kendallPValue(1, 20)).toBeLessThan(1e-8);
    expect(kendallPValue(0, 20)).toBeCloseTo(1, 6);
  });
});

describe('architecture comparison', () => {
  it('marks the layers whose tokens differ, and the extra layers of a longer one', () => {
    expect([...differingLayers(['33---- 555---', '33---- 557---'])]).toEqual([1]);
    expect([...differingLayers(['33----', '33---- 777777'])]).toEqual([1]);
    expect(differingLayers(['33---- 555---', '33----  555---']).size).toBe(0);
  });

  it('charts per-layer FLOPs and parameters for each architecture', () => {
    const detail = {
      layers: [
        { flopsM: 0.1, params: 100 },
        { flopsM: 0.2, params: 300 },
      ],
    } as ArchitectureDetail;
    const series = seriesOf(buildLayerCostOption([{ label: 'A', detail }]));
    expect(series.map((s) => s.data)).toEqual([
      [0.1, 0.2],
      [100, 300],
    ]);
  });

  it('gives each architecture one colour in both the FLOPs and the parameter grid', () => {
    const detail = { layers: [{ flopsM: 0.1, params: 100 }] } as ArchitectureDetail;
    const series = seriesOf(
      buildLayerCostOption([
        { label: 'A', detail },
        { label: 'B', detail },
      ]),
    ) as (Series & { itemStyle: { color: string } })[];
    expect(series.map((s) => `${s.name}:${s.itemStyle.color}`)).toEqual([
      `A:${seriesColor(0)}`,
      `A:${seriesColor(0)}`,
      `B:${seriesColor(1)}`,
      `B:${seriesColor(1)}`,
    ]);
  });
});

describe('ablations', () => {
  const runs = [
    { id: 'a', forcedSampling: true, shadowBatchNorm: false, tau: 0.9 },
    { id: 'b', forcedSampling: false, shadowBatchNorm: true, tau: null },
    { id: 'c', forcedSampling: true, shadowBatchNorm: true, tau: 1 },
    { id: 'd', forcedSampling: true, shadowBatchNorm: false, tau: 0.7 },
  ] as RunSummary[];
  const arch = (accuracy: number | null, flopsM: number) =>
    ({ id: 0, runId: '', budgetM: null, compact: '', flopsM, params: 0, accuracy }) as const;
  const archs = { a: [arch(0.8, 1.2), arch(null, 1.4)], d: [arch(0.7, 1.3)], c: [arch(0.9, 1.5)] };

  it('groups runs by FS and SBN in a fixed order, with their accuracies and taus', () => {
    const groups = groupAblations(runs, archs);
    expect(groups.map((g) => g.label)).toEqual([
      'FS on, SBN on',
      'FS on, SBN off',
      'FS off, SBN on',
    ]);
    const fsOnSbnOff = groups[1];
    expect(fsOnSbnOff.runs.map((r) => r.id)).toEqual(['a', 'd']);
    // The architecture without an accuracy is not a point.
    expect(fsOnSbnOff.points.map((p) => p.accuracy)).toEqual([0.8, 0.7]);
    expect(fsOnSbnOff.taus).toEqual([0.9, 0.7]);
  });

  it('draws one scatter per group and a box per group with accuracies', () => {
    const groups = groupAblations(runs, archs);
    const scatter = seriesOf(buildAblationScatterOption(groups));
    expect(scatter.map((s) => s.data.length)).toEqual([1, 2, 0]);

    const [boxes, taus] = seriesOf(buildAblationDistributionOption(groups));
    expect(boxes.data).toEqual([[0.9, 0.9, 0.9, 0.9, 0.9], [0.7, 0.725, 0.75, 0.775, 0.8], []]);
    expect(taus.data[1]).toBeCloseTo(0.8, 12);
    expect(taus.data[2]).toBeNull();
    expect(ablationCsv(groups).split('\r\n')).toHaveLength(1 + 3 + 1);
  });

  it('computes quartiles by linear interpolation', () => {
    expect(fiveNumbers([4, 1, 3, 2])).toEqual([1, 1.75, 2.5, 3.25, 4]);
  });
});

describe('csv', () => {
  it('quotes cells with commas, quotes and newlines, and leaves missing cells empty', () => {
    expect(toCsv(['a', 'b', 'c'], [['x,y', 'say "hi"', null]])).toBe(
      'a,b,c\r\n"x,y","say ""hi""",\r\n',
    );
  });
});

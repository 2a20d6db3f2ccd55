/**
 * Loss and accuracy curves of a run, one line per stage and metric.
 * Pure: metric rows in, an ECharts option (and CSV) out.
 */
import type { EChartsOption } from 'echarts';

import type { MetricPoint } from '../../../main/api/contract';
import { accuracyAxisMax, accuracyAxisMin, percentLabel } from './accuracyAxis';
import { toCsv } from './csv';
import { seriesColor } from './palette';

/** One curve: a stage's metric over its logged steps. */
export interface Curve {
  stage: string;
  name: string;
  /** [x, value]; x counts the curve's points from 1 in logging order. */
  points: [number, number][];
}

/** Which metrics a chart shows, by name. */
export type MetricFamily = 'loss' | 'accuracy';

/** Whether a metric name belongs to a family ("val_accuracy" is accuracy). */
export function metricFamily(name: string): MetricFamily | null {
  const lower = name.toLowerCase();
  if (lower.includes('loss')) return 'loss';
  if (lower.includes('acc')) return 'accuracy';
  return null;
}

/**
 * Groups metric rows into curves, in first-seen order.
 *
 * Rows are sorted by (epoch, step) within a curve, so a resumed run that
 * re-sent rows out of order still draws a monotone x axis.
 */
export function buildCurves(metrics: readonly MetricPoint[]): Curve[] {
  const groups = new Map<string, MetricPoint[]>();
  for (const m of metrics) {
    const key = `${m.stage}\u0000${m.name}`;
    const rows = groups.get(key) ?? [];
    rows.push(m);
    groups.set(key, rows);
  }

  return [...groups.values()].map((rows) => {
    const sorted = [...rows].sort((a, b) => a.epoch - b.epoch || a.step - b.step);
    return {
      stage: sorted[0].stage,
      name: sorted[0].name,
      points: sorted.map((r, i): [number, number] => [i + 1, r.value]),
    };
  });
}

/**
 * The option of a curves chart for one metric family.
 *
 * @param curves from buildCurves.
 * @param family 'loss' or 'accuracy': which curves to draw. Accuracy is
 *   labelled in percent with the axis starting on a multiple of 5 %.
 * @param stageColors a colour per stage name, so a stage keeps the colour the
 *   run's other charts give it (e.g. "random" in random-subnets); other
 *   stages take the palette in order.
 * @returns a line chart, one series per "stage / metric", zoomable.
 */
export function buildCurvesOption(
  curves: readonly Curve[],
  family: MetricFamily,
  stageColors: Readonly<Record<string, string>> = {},
): EChartsOption {
  const chosen = curves.filter((c) => metricFamily(c.name) === family);
  const accuracy = family === 'accuracy';

  return {
    animation: false,
    title: { text: family === 'loss' ? 'Loss' : 'Accuracy', left: 'center' },
    tooltip: {
      trigger: 'axis',
      ...(accuracy ? { valueFormatter: (v: unknown) => percentLabel(Number(v)) } : {}),
    },
    legend: { top: 28, type: 'scroll' },
    grid: { top: 70, left: 60, right: 24, bottom: 70 },
    xAxis: { type: 'value', name: 'logged step', nameLocation: 'middle', nameGap: 28, min: 1 },
    yAxis: {
      type: 'value',
      name: accuracy ? 'accuracy (%)' : family,
      scale: true,
      ...(accuracy
        ? { min: accuracyAxisMin, max: accuracyAxisMax, axisLabel: { formatter: percentLabel } }
        : {}),
    },
    dataZoom: [{ type: 'inside' }, { type: 'slider', bottom: 10 }],
    series: chosen.map((c, i) => ({
      name: `${c.stage} / ${c.name}`,
      type: 'line',
      itemStyle: { color: stageColors[c.stage] ?? seriesColor(i) },
      showSymbol: c.points.length < 40,
      data: c.points,
    })),
  };
}

/** Whether any curve of a family has a point (its chart would not be empty). */
export function hasFamily(curves: readonly Curve[], family: MetricFamily): boolean {
  return curves.some((c) => metricFamily(c.name) === family && c.points.length > 0);
}

/** The curves as CSV rows: stage, metric, x, value. */
export function curvesCsv(curves: readonly Curve[]): string {
  const rows = curves.flatMap((c) => c.points.map(([x, v]) => [c.stage, c.name, x, v]));
  return toCsv(['stage', 'metric', 'x', 'value'], rows);
}

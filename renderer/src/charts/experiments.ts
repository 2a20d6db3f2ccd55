/**
 * Result charts of the search experiments: the search-cost comparison
 * (compare-search, the paper's Table 1) and the two baselines (random search
 * and evolution). Pure: a parsed `results/experiment.json` in, an ECharts
 * option or CSV text out. Series data are the report's own values (accuracy
 * stays a 0..1 fraction; the axis prints it as a percentage).
 */
import type { EChartsOption } from 'echarts';

import type { BaselineReport, CompareSearchReport } from '../../../main/api/contract';
import { accuracyAxisMax, accuracyAxisMin, percentLabel } from './accuracyAxis';
import { toCsv } from './csv';
import { fixed } from './format';
import { REFERENCE_COLOR, seriesColor } from './palette';
import { niceBounds } from './tau';

/** The three methods of the comparison, in the paper's order, with their labels. */
export const COMPARE_METHODS = [
  { key: 'sgnas', label: 'SGNAS' },
  { key: 'random', label: 'random search' },
  { key: 'evolution', label: 'evolution' },
] as const;

export { percentLabel };

/**
 * The FLOPs axis every experiment chart shares.
 *
 * @param spanM values the axis must show (picks and budgets alike); the axis
 *   ends on round values just outside them. Absent: the axis fits the data.
 */
export function flopsAxis(name = 'FLOPs (MFLOPs)', spanM?: readonly number[]) {
  const ends = spanM && spanM.length > 0 ? niceBounds(spanM) : null;
  return { type: 'value' as const, name, scale: true, nameLocation: 'middle' as const,
    nameGap: 28, ...(ends ? { min: ends[0], max: ends[1] } : {}) };
}

/** An accuracy axis over 0..1 fractions, labelled in percent, starting on a round value. */
export function accuracyAxis(name = 'supernet accuracy (%)') {
  return { type: 'value' as const, name, scale: true, min: accuracyAxisMin,
    max: accuracyAxisMax, axisLabel: { formatter: percentLabel } };
}

/**
 * A line-less series whose mark lines stand at the budgets: one dashed
 * vertical line per target, so each pick reads against the budget it was
 * searched for.
 */
export function budgetMarkers(budgetsM: readonly number[], name = 'budgets') {
  return {
    name,
    type: 'line' as const,
    data: [] as [number, number][],
    itemStyle: { color: REFERENCE_COLOR },
    silent: true,
    markLine: {
      symbol: 'none',
      silent: true,
      label: { show: false },
      lineStyle: { type: 'dashed' as const, color: REFERENCE_COLOR, opacity: 0.6 },
      data: budgetsM.map((targetM) => ({ xAxis: targetM })),
    },
  };
}

/** One method's part of the report. */
type MethodReport = CompareSearchReport['sgnas' | 'random' | 'evolution'];

function methodOf(report: CompareSearchReport, key: (typeof COMPARE_METHODS)[number]['key'])
  : MethodReport {
  return report[key];
}

/**
 * Total search seconds per method as bars. SGNAS's bar is the generator's
 * training plus all generations; the baselines' are their N searches. The
 * shared supernet's training is counted for none (the subtext says so).
 */
export function buildSearchSecondsOption(report: CompareSearchReport): EChartsOption {
  const supernet = report.supernetTrainSeconds;
  return {
    animation: false,
    title: {
      text: `Search time for ${report.budgetsM.length} budgets`,
      subtext: `shared supernet training (${supernet === null ? 'unknown' :
        `${fixed(supernet, 1)} s`}) not counted`,
      left: 'center',
    },
    tooltip: { trigger: 'item' },
    grid: { top: 70, left: 80, right: 20, bottom: 50 },
    xAxis: { type: 'category', name: 'method', data: COMPARE_METHODS.map((m) => m.label) },
    yAxis: { type: 'value', name: 'search time (s)' },
    series: [
      {
        name: 'search time (s)',
        type: 'bar',
        data: COMPARE_METHODS.map((m, i) => ({
          value: methodOf(report, m.key).searchSeconds,
          itemStyle: { color: seriesColor(i) },
        })),
      },
    ],
  };
}

/**
 * Per budget, the FLOPs and supernet accuracy each method found: one
 * scatter per method, with the budgets as dashed vertical lines.
 */
export function buildComparePicksOption(report: CompareSearchReport): EChartsOption {
  return {
    animation: false,
    title: { text: 'Accuracy vs FLOPs of each method\'s picks', left: 'center' },
    tooltip: { trigger: 'item' },
    legend: { top: 36 },
    grid: { top: 76, left: 80, right: 20, bottom: 84 },
    xAxis: flopsAxis('FLOPs (MFLOPs)', [...report.budgetsM,
      ...COMPARE_METHODS.flatMap((m) => methodOf(report, m.key).budgets.map((b) => b.flopsM))]),
    yAxis: accuracyAxis(),
    dataZoom: [{ type: 'inside' }, { type: 'slider', bottom: 8 }],
    series: [
      ...COMPARE_METHODS.map((m, i) => ({
        name: m.label,
        type: 'scatter' as const,
        symbolSize: 9,
        itemStyle: { color: seriesColor(i) },
        data: methodOf(report, m.key).budgets.map((b): [number, number] =>
          [b.flopsM, b.accuracy]),
      })),
      budgetMarkers(report.budgetsM),
    ],
  };
}

/** One row of the comparison table: a budget and what each method found for it. */
export interface CompareRow {
  targetM: number;
  picks: { method: string; flopsM: number; accuracy: number; architecture: string }[];
}

/** The comparison as table rows, one per budget, methods in COMPARE_METHODS order. */
export function compareRows(report: CompareSearchReport): CompareRow[] {
  return report.budgetsM.map((targetM, i) => ({
    targetM,
    picks: COMPARE_METHODS.map((m) => {
      const pick = methodOf(report, m.key).budgets[i];
      return { method: m.label, flopsM: pick.flopsM, accuracy: pick.accuracy,
        architecture: pick.architecture };
    }),
  }));
}

/**
 * Which method found each architecture a compare-search run recorded, by
 * record id. The run records SGNAS's picks, then random search's, then
 * evolution's, each in budget order; a record is given the method at its
 * place when that pick has its text and budget. Otherwise (records missing
 * or reordered) it is matched by text and budget, naming every method that
 * picked it.
 */
export function compareArchitectureMethods(
  report: CompareSearchReport,
  records: readonly { id: number; budgetM: number | null; compact: string }[],
): Record<number, string> {
  const perMethod = report.budgetsM.length;
  const sorted = [...records].sort((a, b) => a.id - b.id);
  const picks = COMPARE_METHODS.flatMap((m) => methodOf(report, m.key).budgets.map((b) =>
    ({ label: m.label, targetM: b.targetM, architecture: b.architecture })));
  const same = (pick: (typeof picks)[number], r: (typeof records)[number]) =>
    pick.architecture === r.compact && r.budgetM !== null &&
    Math.abs(pick.targetM - r.budgetM) < 1e-6;

  const methods: Record<number, string> = {};
  const inOrder = sorted.length === picks.length &&
    sorted.every((r, i) => same(picks[i], r));
  sorted.forEach((r, i) => {
    if (inOrder && perMethod > 0) methods[r.id] = picks[i].label;
    else {
      const labels = picks.filter((p) => same(p, r)).map((p) => p.label);
      methods[r.id] = labels.length > 0 ? [...new Set(labels)].join(' / ') : '–';
    }
  });
  return methods;
}

/** Every pick of the comparison as CSV, with each method's total search seconds. */
export function compareSearchCsv(report: CompareSearchReport): string {
  const rows = COMPARE_METHODS.flatMap((m) => {
    const method = methodOf(report, m.key);
    return method.budgets.map((b) => [m.key, b.targetM, b.flopsM, b.accuracy, b.architecture,
      method.searchSeconds]);
  });
  return toCsv(['method', 'target_mflops', 'found_mflops', 'accuracy', 'architecture',
    'method_search_seconds'], rows);
}

/** "random search" or "evolution", as the baseline charts title it. */
export function baselineLabel(report: BaselineReport): string {
  return report.method === 'random' ? 'random search' : 'evolution';
}

/**
 * A baseline's found FLOPs against each budget, with the y = x line: a pick
 * on or under it kept its budget.
 */
export function buildBaselineFlopsOption(report: BaselineReport): EChartsOption {
  const values = report.budgets.flatMap((b) => [b.targetM, b.flopsM]);
  const lo = values.length > 0 ? Math.min(...values) : 0;
  const hi = values.length > 0 ? Math.max(...values) : 1;
  return {
    animation: false,
    title: {
      text: `${baselineLabel(report)}: found FLOPs per budget`,
      subtext: `${report.budgets.length} budgets, ${fixed(report.searchSeconds, 1)} s of search`,
      left: 'center',
    },
    tooltip: { trigger: 'item' },
    legend: { top: 44 },
    grid: { top: 80, left: 80, right: 20, bottom: 60 },
    xAxis: flopsAxis('budget (MFLOPs)'),
    yAxis: { type: 'value', name: 'found (MFLOPs)', scale: true },
    series: [
      {
        name: 'budget (y = x)',
        type: 'line',
        data: [[lo, lo], [hi, hi]],
        showSymbol: false,
        silent: true,
        itemStyle: { color: REFERENCE_COLOR },
        lineStyle: { type: 'dashed', color: REFERENCE_COLOR },
      },
      {
        name: 'best found',
        type: 'scatter',
        symbolSize: 9,
        itemStyle: { color: seriesColor(report.method === 'random' ? 1 : 2) },
        data: report.budgets.map((b): [number, number] => [b.targetM, b.flopsM]),
      },
    ],
  };
}

/** A baseline's best supernet accuracy per budget. */
export function buildBaselineAccuracyOption(report: BaselineReport): EChartsOption {
  return {
    animation: false,
    title: { text: `${baselineLabel(report)}: best accuracy per budget`, left: 'center' },
    tooltip: { trigger: 'item' },
    grid: { top: 60, left: 80, right: 20, bottom: 60 },
    xAxis: flopsAxis('budget (MFLOPs)'),
    yAxis: accuracyAxis(),
    series: [
      {
        name: 'best accuracy',
        type: 'line',
        symbolSize: 8,
        itemStyle: { color: seriesColor(report.method === 'random' ? 1 : 2) },
        data: report.budgets.map((b): [number, number] => [b.targetM, b.accuracy]),
      },
    ],
  };
}

/** A baseline's picks as CSV. */
export function baselineCsv(report: BaselineReport): string {
  const rows = report.budgets.map((b) => [report.method, b.targetM, b.flopsM, b.accuracy,
    b.evaluations, b.seconds, b.architecture]);
  return toCsv(['method', 'target_mflops', 'found_mflops', 'accuracy', 'evaluations',
    'seconds', 'architecture'], rows);
}

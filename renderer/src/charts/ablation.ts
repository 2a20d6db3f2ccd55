/**
 * The Ablations view: runs grouped by their FS and SBN settings, with
 * accuracy against FLOPs of their evaluated architectures, the accuracy
 * distribution per group, and tau per group.
 */
import type { EChartsOption } from 'echarts';

import type { ArchitectureRecord, RunSummary } from '../../../main/api/contract';
import { toCsv } from './csv';
import { SERIES_COLORS } from './palette';

/** A group of runs that share FS and SBN. */
export interface AblationGroup {
  key: string;
  label: string;
  forcedSampling: boolean | null;
  shadowBatchNorm: boolean | null;
  runs: RunSummary[];
  /** Evaluated architectures (those with an accuracy) of the group's runs. */
  points: { runId: string; flopsM: number; accuracy: number }[];
  /** Tau of each run that has a sweep. */
  taus: number[];
}

function onOff(value: boolean | null): string {
  return value === null ? '?' : value ? 'on' : 'off';
}

/**
 * Groups runs by (forcedSampling, shadowBatchNorm), in a fixed order:
 * FS on/SBN on, FS on/SBN off, FS off/SBN on, FS off/SBN off, unknown last.
 *
 * @param archsByRun each run's recorded architectures (missing = none).
 */
export function groupAblations(
  runs: readonly RunSummary[],
  archsByRun: Readonly<Record<string, readonly ArchitectureRecord[]>>,
): AblationGroup[] {
  const groups = new Map<string, AblationGroup>();
  for (const run of runs) {
    const key = `${onOff(run.forcedSampling)}/${onOff(run.shadowBatchNorm)}`;
    const group = groups.get(key) ?? {
      key,
      label: `FS ${onOff(run.forcedSampling)}, SBN ${onOff(run.shadowBatchNorm)}`,
      forcedSampling: run.forcedSampling,
      shadowBatchNorm: run.shadowBatchNorm,
      runs: [],
      points: [],
      taus: [],
    };
    group.runs.push(run);
    for (const a of archsByRun[run.id] ?? []) {
      if (a.accuracy === null) continue;
      group.points.push({ runId: run.id, flopsM: a.flopsM, accuracy: a.accuracy });
    }
    if (run.tau !== null) group.taus.push(run.tau);
    groups.set(key, group);
  }

  const order = ['on/on', 'on/off', 'off/on', 'off/off'];
  const rank = (k: string) => (order.includes(k) ? order.indexOf(k) : order.length);
  return [...groups.values()].sort(
    (a, b) => rank(a.key) - rank(b.key) || a.key.localeCompare(b.key),
  );
}

/** Quartiles for a box plot: [min, q1, median, q3, max]. */
export function fiveNumbers(values: readonly number[]): [number, number, number, number, number] {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => {
    const pos = (sorted.length - 1) * q;
    const lo = Math.floor(pos);
    const hi = Math.ceil(pos);
    return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
  };
  return [sorted[0], at(0.25), at(0.5), at(0.75), sorted[sorted.length - 1]];
}

/** Accuracy vs FLOPs, one scatter series per group. */
export function buildAblationScatterOption(groups: readonly AblationGroup[]): EChartsOption {
  return {
    animation: false,
    color: [...SERIES_COLORS],
    title: { text: 'Accuracy vs FLOPs by FS / SBN', left: 'center' },
    tooltip: { trigger: 'item' },
    legend: { top: 28 },
    grid: { top: 70, left: 70, right: 20, bottom: 70 },
    xAxis: { type: 'value', name: 'MFLOPs', scale: true, nameLocation: 'middle', nameGap: 28 },
    yAxis: { type: 'value', name: 'accuracy', scale: true },
    dataZoom: [{ type: 'inside' }, { type: 'slider', bottom: 8 }],
    series: groups.map((g) => ({
      name: g.label,
      type: 'scatter' as const,
      symbolSize: 7,
      data: g.points.map((p): [number, number] => [p.flopsM, p.accuracy]),
    })),
  };
}

/**
 * Per group: a box plot of accuracies (left axis) and the mean tau (right
 * axis, a diamond). Groups without accuracies get no box; without sweeps, no
 * diamond.
 */
export function buildAblationDistributionOption(groups: readonly AblationGroup[]): EChartsOption {
  const labels = groups.map((g) => g.label);
  const boxes = groups.map((g) =>
    g.points.length > 0 ? fiveNumbers(g.points.map((p) => p.accuracy)) : [],
  );
  const meanTau = groups.map((g) =>
    g.taus.length > 0 ? g.taus.reduce((s, t) => s + t, 0) / g.taus.length : null,
  );

  return {
    animation: false,
    color: [...SERIES_COLORS],
    title: { text: 'Accuracy distribution and tau per group', left: 'center' },
    tooltip: { trigger: 'item' },
    legend: { top: 28 },
    grid: { top: 70, left: 70, right: 70, bottom: 50 },
    xAxis: { type: 'category', data: labels },
    yAxis: [
      { type: 'value', name: 'accuracy', scale: true },
      { type: 'value', name: 'tau', min: -1, max: 1 },
    ],
    series: [
      { name: 'accuracy', type: 'boxplot', data: boxes },
      // A marker, not a bar: a bar from the tau axis's zero would cover the boxes.
      {
        name: 'mean tau',
        type: 'scatter',
        yAxisIndex: 1,
        symbol: 'diamond',
        symbolSize: 16,
        data: meanTau,
      },
    ],
  };
}

/** Every grouped point as CSV. */
export function ablationCsv(groups: readonly AblationGroup[]): string {
  const rows = groups.flatMap((g) =>
    g.points.map((p) => [g.label, p.runId, p.flopsM, p.accuracy]),
  );
  return toCsv(['group', 'run', 'mflops', 'accuracy'], rows);
}

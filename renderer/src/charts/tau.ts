/**
 * The Kendall-tau plot: generated FLOPs against target FLOPs for one or more
 * sweeps, with the y = x line a perfect generator would follow.
 */
import type { EChartsOption } from 'echarts';

import { toCsv } from './csv';
import { fixed, pValue } from './format';
import { REFERENCE_COLOR, seriesColor } from './palette';

/** One sweep to draw. */
export interface TauSweep {
  /** Legend label, e.g. the run name and its FS/SBN settings. */
  label: string;
  points: readonly { targetM: number; flopsM: number }[];
  tau: number;
  pearson: number;
  n: number;
  pValue: number | null;
}

/** The stats line of one sweep, as shown under the title and in the legend. */
export function tauSummary(sweep: TauSweep): string {
  return (
    `${sweep.label}: tau ${fixed(sweep.tau)}, Pearson ${fixed(sweep.pearson)}, ` +
    `n ${sweep.n}, p ${pValue(sweep.pValue)}`
  );
}

/** Points are slightly see-through, so stacked points of a dense sweep show. */
export const POINT_OPACITY = 0.8;

/**
 * Axis ends for both axes of the tau plot: the values' range padded by 5 %
 * and rounded outwards to a tenth of its order of magnitude, so the end
 * labels read "0.5" and "1.6" rather than "0.5644544".
 *
 * @returns [low, high], equal on both axes so y = x is the diagonal.
 */
export function niceBounds(values: readonly number[]): [number, number] {
  if (values.length === 0) return [0, 1];
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  const pad = (hi - lo) * 0.05 || Math.abs(hi) * 0.05 || 0.5;
  const step = 10 ** (Math.floor(Math.log10(hi - lo + 2 * pad)) - 1);
  // toFixed(12) drops the binary noise of k * step (0.5000000000000001).
  const round = (k: number) => Number((k * step).toFixed(12));
  return [round(Math.floor((lo - pad) / step)), round(Math.ceil((hi + pad) / step))];
}

/**
 * The option of the tau plot.
 *
 * @param sweeps one or more sweeps, overlaid in different colours.
 * @returns a scatter per sweep plus a dashed "y = x" line spanning every
 *   point, so over- and undershoot read as distance from the diagonal.
 */
export function buildTauOption(sweeps: readonly TauSweep[]): EChartsOption {
  const values = sweeps.flatMap((s) => s.points.flatMap((p) => [p.targetM, p.flopsM]));
  const [lo, hi] = niceBounds(values);
  const ends: [number, number][] = [
    [lo, lo],
    [hi, hi],
  ];

  return {
    animation: false,
    title: {
      text: 'Target vs generated FLOPs',
      subtext: sweeps.map(tauSummary).join('\n'),
      left: 'center',
    },
    tooltip: { trigger: 'item' },
    legend: { bottom: 44, type: 'scroll' },
    grid: { top: 60 + 16 * sweeps.length, left: 70, right: 30, bottom: 100 },
    xAxis: {
      type: 'value',
      name: 'target (MFLOPs)',
      nameLocation: 'middle',
      nameGap: 28,
      min: lo,
      max: hi,
    },
    yAxis: {
      type: 'value',
      name: 'generated (MFLOPs)',
      min: lo,
      max: hi,
    },
    dataZoom: [
      { type: 'inside', xAxisIndex: 0 },
      { type: 'inside', yAxisIndex: 0 },
      { type: 'slider', xAxisIndex: 0, bottom: 8 },
    ],
    series: [
      {
        name: 'y = x',
        type: 'line',
        data: ends,
        showSymbol: false,
        // The item colour is what the legend shows; the line itself is dashed grey too.
        itemStyle: { color: REFERENCE_COLOR },
        lineStyle: { type: 'dashed', color: REFERENCE_COLOR },
        silent: true,
      },
      ...sweeps.map((s, i) => ({
        name: s.label,
        type: 'scatter' as const,
        symbolSize: 9,
        // Above the y = x line: a point on target must not be hidden by it.
        z: 3,
        itemStyle: { color: seriesColor(i), opacity: POINT_OPACITY },
        data: s.points.map((p): [number, number] => [p.targetM, p.flopsM]),
      })),
    ],
  };
}

/** Every point of every sweep as CSV. */
export function tauCsv(sweeps: readonly TauSweep[]): string {
  const rows = sweeps.flatMap((s) =>
    s.points.map((p) => [s.label, p.targetM, p.flopsM, s.tau, s.pearson, s.n, s.pValue]),
  );
  return toCsv(['sweep', 'target_mflops', 'generated_mflops', 'tau', 'pearson', 'n', 'p'], rows);
}

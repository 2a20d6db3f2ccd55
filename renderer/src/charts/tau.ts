/**
 * The Kendall-tau plot: generated FLOPs against target FLOPs for one or more
 * sweeps, with the y = x line a perfect generator would follow.
 */
import type { EChartsOption } from 'echarts';

import { toCsv } from './csv';
import { fixed, pValue } from './format';

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

/**
 * The option of the tau plot.
 *
 * @param sweeps one or more sweeps, overlaid in different colours.
 * @returns a scatter per sweep plus a dashed "y = x" line spanning every
 *   point, so over- and undershoot read as distance from the diagonal.
 */
export function buildTauOption(sweeps: readonly TauSweep[]): EChartsOption {
  const values = sweeps.flatMap((s) => s.points.flatMap((p) => [p.targetM, p.flopsM]));
  const lo = values.length > 0 ? Math.min(...values) : 0;
  const hi = values.length > 0 ? Math.max(...values) : 1;
  const pad = (hi - lo) * 0.05 || 0.5;
  const ends: [number, number][] = [
    [lo - pad, lo - pad],
    [hi + pad, hi + pad],
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
      min: lo - pad,
      max: hi + pad,
    },
    yAxis: {
      type: 'value',
      name: 'generated (MFLOPs)',
      min: lo - pad,
      max: hi + pad,
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
        lineStyle: { type: 'dashed', color: '#888' },
        silent: true,
      },
      ...sweeps.map((s) => ({
        name: s.label,
        type: 'scatter' as const,
        symbolSize: 8,
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

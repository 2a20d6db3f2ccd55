/**
 * What the Architecture and Compare views draw: each layer a row of its
 * sub-blocks coloured by op, and which layers differ between architectures.
 */
import type { EChartsOption } from 'echarts';

import type { ArchitectureDetail } from '../../../main/api/contract';
import type { SubBlockOp } from '../../../main/engine/space/types';
import { toCsv } from './csv';
import { seriesColor } from './palette';

/** The colour of each op: warm for larger kernels, grey for skip. */
export const OP_COLORS: Record<SubBlockOp, string> = {
  '3x3': '#9ecae1',
  '5x5': '#4292c6',
  '7x7': '#08306b',
  skip: '#e5e5e5',
};

/** Short cell labels. */
export const OP_LABELS: Record<SubBlockOp, string> = {
  '3x3': '3',
  '5x5': '5',
  '7x7': '7',
  skip: '–',
};

/**
 * Indexes (0-based) of the layers where the architectures do not all agree,
 * compared by their compact tokens. Architectures of different lengths
 * differ at every index past the shorter one.
 */
export function differingLayers(compacts: readonly string[]): Set<number> {
  const tokenLists = compacts.map((c) => c.trim().split(/\s+/));
  const length = Math.max(0, ...tokenLists.map((t) => t.length));
  const differing = new Set<number>();

  for (let l = 0; l < length; l++) {
    const tokens = new Set(tokenLists.map((t) => t[l] ?? ''));
    if (tokens.size > 1) differing.add(l);
  }
  return differing;
}

/** A y-axis name written vertically beside the axis, clear of its labels. */
const SIDE_NAME = { nameLocation: 'middle', nameRotate: 90, nameGap: 58 } as const;

/**
 * Per-layer FLOPs and parameters of one or more architectures, as grouped
 * bars (one series per architecture).
 */
export function buildLayerCostOption(
  details: readonly { label: string; detail: ArchitectureDetail }[],
): EChartsOption {
  const layerCount = Math.max(0, ...details.map((d) => d.detail.layers.length));
  const categories = Array.from({ length: layerCount }, (_, l) => `L${l + 1}`);

  return {
    animation: false,
    title: { text: 'Per-layer FLOPs and parameters', left: 'center' },
    tooltip: { trigger: 'axis' },
    legend: { top: 28, type: 'scroll' },
    grid: [
      { top: 70, left: 90, right: 20, height: '32%' },
      { bottom: 50, left: 90, right: 20, height: '32%' },
    ],
    xAxis: [
      { type: 'category', data: categories, gridIndex: 0 },
      { type: 'category', data: categories, gridIndex: 1 },
    ],
    // Axis names run along the axes: above the lower grid, "params" would sit
    // on the upper grid's layer labels.
    yAxis: [
      { type: 'value', name: 'MFLOPs', gridIndex: 0, ...SIDE_NAME },
      { type: 'value', name: 'params', gridIndex: 1, ...SIDE_NAME },
    ],
    dataZoom: [{ type: 'inside', xAxisIndex: [0, 1] }],
    // One colour per architecture in both grids (the legend entry toggles both).
    series: details.flatMap((d, i) => [
      {
        name: d.label,
        type: 'bar' as const,
        xAxisIndex: 0,
        yAxisIndex: 0,
        itemStyle: { color: seriesColor(i) },
        data: d.detail.layers.map((l) => l.flopsM),
      },
      {
        name: d.label,
        type: 'bar' as const,
        xAxisIndex: 1,
        yAxisIndex: 1,
        itemStyle: { color: seriesColor(i) },
        data: d.detail.layers.map((l) => l.params),
      },
    ]),
  };
}

/** Per-layer rows of one or more architectures as CSV. */
export function architectureCsv(
  details: readonly { label: string; detail: ArchitectureDetail }[],
): string {
  const rows = details.flatMap((d) =>
    d.detail.layers.map((l) => [
      d.label,
      l.index + 1,
      l.compact,
      l.expansionRate,
      l.cIn,
      l.cOut,
      l.stride,
      l.flopsM,
      l.params,
    ]),
  );
  return toCsv(
    [
      'architecture',
      'layer',
      'ops',
      'expansion_rate',
      'c_in',
      'c_out',
      'stride',
      'mflops',
      'params',
    ],
    rows,
  );
}

/**
 * The series colours of every chart. Set explicitly (not left to the
 * ECharts theme) so one run or architecture keeps its colour across the
 * charts of a view, and so tests can look for a series by its colour.
 */

/** Distinct, saturated colours that read on white; series i uses colour i. */
export const SERIES_COLORS: readonly string[] = [
  '#2f5fd0',
  '#d9480f',
  '#2b8a3e',
  '#9c36b5',
  '#e67700',
  '#0b7285',
  '#c2255c',
  '#5c940d',
];

/** The neutral colour of reference lines (e.g. y = x). */
export const REFERENCE_COLOR = '#888888';

/** The colour of series i, cycling through the palette. */
export function seriesColor(index: number): string {
  return SERIES_COLORS[index % SERIES_COLORS.length];
}

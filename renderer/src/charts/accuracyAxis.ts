/**
 * The accuracy axis every chart shares: values stay 0..1 fractions, labels
 * print them in percent (as the tables do), and the ends fall on round
 * values, so an axis never starts at an odd value like 9.9 %.
 */

/** The axis starts on a multiple of this fraction (5 %). */
export const ACCURACY_STEP = 0.05;

/** An accuracy fraction as an axis label: 0.125 -> "12.5%". */
export function percentLabel(value: number): string {
  return `${Number((value * 100).toFixed(2))}%`;
}

/**
 * The axis start: the multiple of 5 % below the lowest value (strictly
 * below, so a point on a multiple does not sit on the axis line), never
 * under 0.
 *
 * @example accuracyAxisMin({ min: 0.099 }) // 0.05
 */
export function accuracyAxisMin(extent: { min: number }): number {
  if (!Number.isFinite(extent.min)) return 0;
  const steps = Math.floor((extent.min - 1e-9) / ACCURACY_STEP);
  return Math.max(0, Number((steps * ACCURACY_STEP).toFixed(4)));
}

/**
 * The axis end: 1 when the data reach past 0.95, else left to ECharts
 * (null), which ends it on the nice tick above the data; a fixed end at the
 * data's own maximum (say 0.125) would print beside the tick below it.
 */
export function accuracyAxisMax(extent: { max: number }): number {
  // ECharts reads a null max as "not fixed".
  return (extent.max > 0.95 ? 1 : null) as number;
}

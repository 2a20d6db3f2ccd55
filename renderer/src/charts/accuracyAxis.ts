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
 * The axis end: the multiple of 5 % above the highest value, at most 1. With
 * both ends on multiples of 5 % the ticks fall on round values too; an end
 * left to ECharts next to a fixed start gave ticks like 5 %, 6 %, 9 %.
 *
 * @example accuracyAxisMax({ max: 0.2 }) // 0.25
 */
export function accuracyAxisMax(extent: { max: number }): number {
  if (!Number.isFinite(extent.max)) return 1;
  const steps = Math.floor((extent.max + 1e-9) / ACCURACY_STEP) + 1;
  return Math.min(1, Number((steps * ACCURACY_STEP).toFixed(4)));
}

/**
 * Rank and linear correlation of target vs generated FLOPs, for sweeps the
 * renderer makes itself (the Generate view); recorded sweeps carry the
 * registry's values.
 */

/** Kendall's tau-b (ties in either variable accounted for). NaN below 2 points. */
export function kendallTauB(x: readonly number[], y: readonly number[]): number {
  const n = Math.min(x.length, y.length);
  let concordant = 0;
  let discordant = 0;
  let tiesX = 0;
  let tiesY = 0;

  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const dx = Math.sign(x[i] - x[j]);
      const dy = Math.sign(y[i] - y[j]);
      if (dx === 0 && dy === 0) continue;
      if (dx === 0) tiesX++;
      else if (dy === 0) tiesY++;
      else if (dx === dy) concordant++;
      else discordant++;
    }
  }

  const denom = Math.sqrt((concordant + discordant + tiesX) * (concordant + discordant + tiesY));
  return denom === 0 ? NaN : (concordant - discordant) / denom;
}

/** Pearson's correlation coefficient. NaN when either variable is constant. */
export function pearson(x: readonly number[], y: readonly number[]): number {
  const n = Math.min(x.length, y.length);
  if (n < 2) return NaN;
  const mx = x.slice(0, n).reduce((s, v) => s + v, 0) / n;
  const my = y.slice(0, n).reduce((s, v) => s + v, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;

  for (let i = 0; i < n; i++) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) ** 2;
    syy += (y[i] - my) ** 2;
  }
  return sxx === 0 || syy === 0 ? NaN : sxy / Math.sqrt(sxx * syy);
}

/** The error function (Abramowitz-Stegun 7.1.26, |error| < 1.5e-7). */
function erf(z: number): number {
  const t = 1 / (1 + 0.3275911 * Math.abs(z));
  const inner = 1.421413741 + t * (-1.453152027 + t * 1.061405429);
  const poly = t * (0.254829592 + t * (-0.284496736 + t * inner));
  const value = 1 - poly * Math.exp(-z * z);
  return z >= 0 ? value : -value;
}

/**
 * Two-sided p-value of Kendall's tau under independence, by the normal
 * approximation z = 3 tau sqrt(n (n - 1)) / sqrt(2 (2n + 5)).
 */
export function kendallPValue(tau: number, n: number): number {
  if (!Number.isFinite(tau) || n < 3) return NaN;
  const z = (3 * tau * Math.sqrt(n * (n - 1))) / Math.sqrt(2 * (2 * n + 5));
  return 1 - erf(Math.abs(z) / Math.SQRT2);
}

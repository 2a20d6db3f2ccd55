/**
 * The statistics that judge a target sweep (method.md section 8): Kendall's
 * tau-b and Pearson's r between target and generated FLOPs, each with a
 * two-sided p-value. Special functions are written out here so the engine
 * needs no statistics package.
 */

/** A correlation, or undefined where it does not exist. */
export interface Correlation {
  /** The coefficient in [-1, 1]; undefined when a series is constant or too short. */
  value: number | undefined;
  /** Two-sided p-value of "no association"; undefined when it does not exist. */
  pValue: number | undefined;
  /** Number of (x, y) pairs. */
  n: number;
}

function checkSeries(x: readonly number[], y: readonly number[]): void {
  if (x.length !== y.length) {
    throw new RangeError(
      `correlation needs two series of equal length, got ${x.length} and ${y.length}`,
    );
  }
  const bad = [...x, ...y].find((v) => !Number.isFinite(v));
  if (bad !== undefined) {
    throw new RangeError(`correlation needs finite numbers, got ${bad}; drop such points first`);
  }
}

/** Sizes of the groups of equal values (groups of one included). */
function tieGroups(values: readonly number[]): number[] {
  const counts = new Map<number, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts.values()];
}

/** Sum of f(t) over the tie-group sizes t. */
function sumOver(groups: number[], f: (t: number) => number): number {
  return groups.reduce((sum, t) => sum + f(t), 0);
}

/**
 * Kendall's tau-b, which corrects for ties, with a two-sided p-value from the
 * normal approximation of S = concordant - discordant using the tie-corrected
 * variance (as scipy.stats.kendalltau with method='asymptotic').
 *
 * @example kendallTauB([1, 2, 3], [1, 3, 2]) // value 1/3
 * @returns value and pValue undefined when n < 2 or either series is constant.
 * @throws RangeError for series of different lengths or non-finite values.
 */
export function kendallTauB(x: readonly number[], y: readonly number[]): Correlation {
  checkSeries(x, y);
  const n = x.length;
  if (n < 2) return { value: undefined, pValue: undefined, n };

  let s = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) s += Math.sign(x[i] - x[j]) * Math.sign(y[i] - y[j]);
  }

  const tx = tieGroups(x);
  const ty = tieGroups(y);
  const pairs = (n * (n - 1)) / 2;
  const tiedX = sumOver(tx, (t) => (t * (t - 1)) / 2);
  const tiedY = sumOver(ty, (t) => (t * (t - 1)) / 2);
  if (tiedX === pairs || tiedY === pairs) return { value: undefined, pValue: undefined, n };

  const value = s / Math.sqrt((pairs - tiedX) * (pairs - tiedY));
  const variance = kendallVariance(n, tx, ty);
  const pValue = erfc(Math.abs(s) / Math.sqrt(variance) / Math.SQRT2);
  return { value: clampUnit(value), pValue: Math.min(1, pValue), n };
}

/** Variance of S under independence, corrected for ties in x and in y. */
function kendallVariance(n: number, tx: number[], ty: number[]): number {
  const m = n * (n - 1);
  const v0 = m * (2 * n + 5);
  const vx = sumOver(tx, (t) => t * (t - 1) * (2 * t + 5));
  const vy = sumOver(ty, (t) => t * (t - 1) * (2 * t + 5));
  const pairX = sumOver(tx, (t) => t * (t - 1));
  const pairY = sumOver(ty, (t) => t * (t - 1));
  const tripleX = sumOver(tx, (t) => t * (t - 1) * (t - 2));
  const tripleY = sumOver(ty, (t) => t * (t - 1) * (t - 2));

  // With n = 2 no group can hold three values, so the last term is zero.
  const triples = n > 2 ? (tripleX * tripleY) / (9 * m * (n - 2)) : 0;
  return (v0 - vx - vy) / 18 + (pairX * pairY) / (2 * m) + triples;
}

/**
 * Pearson's r with a two-sided p-value from Student's t with n - 2 degrees of
 * freedom, t = r * sqrt((n - 2) / (1 - r^2)).
 *
 * @returns value undefined when n < 2 or either series is constant; pValue
 *   also undefined when n < 3.
 * @throws RangeError for series of different lengths or non-finite values.
 */
export function pearson(x: readonly number[], y: readonly number[]): Correlation {
  checkSeries(x, y);
  const n = x.length;
  if (n < 2) return { value: undefined, pValue: undefined, n };

  const meanX = x.reduce((a, b) => a + b, 0) / n;
  const meanY = y.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (x[i] - meanX) * (y[i] - meanY);
    sxx += (x[i] - meanX) ** 2;
    syy += (y[i] - meanY) ** 2;
  }
  if (sxx === 0 || syy === 0) return { value: undefined, pValue: undefined, n };

  const r = clampUnit(sxy / Math.sqrt(sxx * syy));
  if (n < 3) return { value: r, pValue: undefined, n };

  // P(|T| >= |t|) = I_{df / (df + t^2)}(df / 2, 1 / 2), and df / (df + t^2) = 1 - r^2.
  const df = n - 2;
  const pValue = Math.abs(r) === 1 ? 0 : regularizedIncompleteBeta(1 - r * r, df / 2, 0.5);
  return { value: r, pValue, n };
}

function clampUnit(v: number): number {
  return Math.max(-1, Math.min(1, v));
}

/** Lanczos approximation coefficients (g = 7, 9 terms). */
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
  -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6,
  1.5056327351493116e-7,
];

/** ln Gamma(z) for z > 0, relative error about 1e-15. */
export function logGamma(z: number): number {
  if (z < 0.5) {
    // Reflection: Gamma(z) Gamma(1 - z) = pi / sin(pi z).
    return Math.log(Math.PI / Math.sin(Math.PI * z)) - logGamma(1 - z);
  }

  const w = z - 1;
  let sum = LANCZOS[0];
  for (let i = 1; i < LANCZOS.length; i++) sum += LANCZOS[i] / (w + i);
  const t = w + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (w + 0.5) * Math.log(t) - t + Math.log(sum);
}

const TINY = 1e-300;
const EPS = 1e-15;
const MAX_ITERATIONS = 10_000;

/**
 * Continued fraction of the incomplete beta (modified Lentz), valid and fast
 * for x < (a + 1) / (a + b + 2).
 */
function betaContinuedFraction(x: number, a: number, b: number): number {
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  d = Math.abs(d) < TINY ? TINY : d;
  d = 1 / d;
  let result = d;

  for (let m = 1; m <= MAX_ITERATIONS; m++) {
    // Even step: d_{2m} = m (b - m) x / ((a + 2m - 1)(a + 2m)).
    const even = (m * (b - m) * x) / ((a + 2 * m - 1) * (a + 2 * m));
    d = 1 + even * d;
    c = 1 + even / c;
    d = 1 / (Math.abs(d) < TINY ? TINY : d);
    c = Math.abs(c) < TINY ? TINY : c;
    result *= d * c;

    // Odd step: d_{2m+1} = -(a + m)(a + b + m) x / ((a + 2m)(a + 2m + 1)).
    const odd = (-(a + m) * (a + b + m) * x) / ((a + 2 * m) * (a + 2 * m + 1));
    d = 1 + odd * d;
    c = 1 + odd / c;
    d = 1 / (Math.abs(d) < TINY ? TINY : d);
    c = Math.abs(c) < TINY ? TINY : c;
    const delta = d * c;
    result *= delta;
    if (Math.abs(delta - 1) < EPS) return result;
  }

  throw new Error(`incomplete beta did not converge for x=${x}, a=${a}, b=${b}`);
}

/**
 * The regularised incomplete beta function I_x(a, b) for x in [0, 1] and
 * a, b > 0.
 *
 * @throws RangeError for arguments outside that domain.
 */
export function regularizedIncompleteBeta(x: number, a: number, b: number): number {
  if (!(x >= 0 && x <= 1) || !(a > 0) || !(b > 0)) {
    throw new RangeError(`incomplete beta needs x in [0, 1] and a, b > 0; got ${x}, ${a}, ${b}`);
  }
  if (x === 0 || x === 1) return x;

  const logFront =
    logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log1p(-x);
  const front = Math.exp(logFront);

  // The continued fraction converges quickly only below the mean; use symmetry above it.
  if (x < (a + 1) / (a + b + 2)) return (front * betaContinuedFraction(x, a, b)) / a;
  return 1 - (front * betaContinuedFraction(1 - x, b, a)) / b;
}

/**
 * The regularised upper incomplete gamma Q(a, x) = Gamma(a, x) / Gamma(a), by
 * its series below a + 1 and its continued fraction above.
 */
export function regularizedUpperGamma(a: number, x: number): number {
  if (!(a > 0) || !(x >= 0)) {
    throw new RangeError(`upper incomplete gamma needs a > 0 and x >= 0; got ${a}, ${x}`);
  }
  if (x === 0) return 1;
  const logFront = a * Math.log(x) - x - logGamma(a);

  if (x < a + 1) {
    let term = 1 / a;
    let sum = term;
    for (let k = 1; k <= MAX_ITERATIONS && Math.abs(term) > Math.abs(sum) * EPS; k++) {
      term *= x / (a + k);
      sum += term;
    }
    return 1 - sum * Math.exp(logFront);
  }

  // Modified Lentz on Q's continued fraction: 1 / (x + 1 - a - 1(1 - a) / (x + 3 - a - ...)).
  let b = x + 1 - a;
  let c = 1 / TINY;
  let d = 1 / b;
  let result = d;
  for (let i = 1; i <= MAX_ITERATIONS; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    d = 1 / (Math.abs(d) < TINY ? TINY : d);
    c = b + an / c;
    c = Math.abs(c) < TINY ? TINY : c;
    const delta = d * c;
    result *= delta;
    if (Math.abs(delta - 1) < EPS) break;
  }
  return result * Math.exp(logFront);
}

/** The complementary error function: erfc(x) = Q(1/2, x^2) for x >= 0. */
export function erfc(x: number): number {
  if (x < 0) return 2 - erfc(-x);
  return regularizedUpperGamma(0.5, x * x);
}

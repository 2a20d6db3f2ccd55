import { describe, expect, it } from 'vitest';

import {
  erfc,
  kendallTauB,
  logGamma,
  pearson,
  regularizedIncompleteBeta,
} from '../main/engine/stats.js';

/** |actual - expected| within a relative tolerance (absolute near zero). */
function expectClose(actual: number | undefined, expected: number, rel = 1e-10): void {
  expect(actual).toBeDefined();
  expect(Math.abs((actual as number) - expected)).toBeLessThanOrEqual(
    rel * Math.max(1, Math.abs(expected)),
  );
}

describe('special functions', () => {
  it('erfc matches known values', () => {
    // scipy.special.erfc(1.0), (0.5), (3.0)
    expectClose(erfc(1), 0.15729920705028516, 1e-13);
    expectClose(erfc(0.5), 0.4795001221869535, 1e-13);
    expectClose(erfc(3), 2.2090496998585445e-5, 1e-13);
    expectClose(erfc(-1), 2 - 0.15729920705028516, 1e-13);
    expect(erfc(0)).toBe(1);
  });

  it('logGamma matches ln of factorials and of Gamma(1/2) = sqrt(pi)', () => {
    expectClose(logGamma(10), Math.log(362880), 1e-13);
    expectClose(logGamma(0.5), 0.5 * Math.log(Math.PI), 1e-13);
    // scipy.special.gammaln(100.5)
    expectClose(logGamma(100.5), 361.43554046777757, 1e-13);
  });

  it('the incomplete beta matches closed forms and scipy.special.betainc', () => {
    // I_x(a, 1) = x^a, and I_{1/2}(a, a) = 1/2 by symmetry.
    expectClose(regularizedIncompleteBeta(0.3, 2.5, 1), 0.3 ** 2.5, 1e-12);
    expectClose(regularizedIncompleteBeta(0.5, 7, 7), 0.5, 1e-12);
    // I_x(1/2, 1/2) = (2 / pi) asin(sqrt(x)).
    const arcsine = (2 / Math.PI) * Math.asin(Math.sqrt(0.2));
    expectClose(regularizedIncompleteBeta(0.2, 0.5, 0.5), arcsine, 1e-12);
    // scipy.special.betainc(a, b, x) takes a, b first.
    expectClose(regularizedIncompleteBeta(0.3, 2.5, 0.5), 0.018927124071945658, 1e-12);
    expectClose(regularizedIncompleteBeta(0.9, 10, 0.5), 0.15164090963470994, 1e-12);
    expect(() => regularizedIncompleteBeta(1.2, 1, 1)).toThrow(/x in \[0, 1\].*1\.2/);
  });
});

describe('kendallTauB', () => {
  it('perfect order gives 1 and reversed order -1', () => {
    const x = [1, 2, 3, 4, 5, 6];
    expect(kendallTauB(x, [10, 20, 30, 40, 50, 60]).value).toBe(1);
    expect(kendallTauB(x, [6, 5, 4, 3, 2, 1]).value).toBe(-1);
  });

  it('counts concordant and discordant pairs (no ties)', () => {
    // x = 1..5, y = 3 1 2 5 4. Pairs (i, j) with y_j vs y_i:
    // D: (1,2) 3>1, (1,3) 3>2, (4,5) 5>4; C: the other 7. S = 7 - 3 = 4, 10 pairs,
    // tau = 4 / 10 = 0.4. Var S = n(n-1)(2n+5)/18 = 5*4*15/18 = 16.667,
    // z = 4 / 4.0825 = 0.97980, p = erfc(z / sqrt 2) = 0.327187 (scipy: 0.32718687779030575).
    const r = kendallTauB([1, 2, 3, 4, 5], [3, 1, 2, 5, 4]);
    expectClose(r.value, 0.4, 1e-12);
    expectClose(r.pValue, 0.32718687779030575, 1e-10);
    expect(r.n).toBe(5);
  });

  it('corrects for ties in x and in y (tau-b, tie-corrected variance)', () => {
    // Points (1,1) (2,3) (2,2) (3,2) (4,4). Pairs: (2,3) tied in x only, (3,4) tied in
    // y only, (2,4) discordant (x 2<3, y 3>2), the other 7 concordant. S = 6.
    // n0 = 10, ties n1 = 1 (x: one pair of 2s), n2 = 1 (y: one pair of 2s):
    // tau_b = 6 / sqrt(9 * 9) = 2/3.
    // Var S = (20*15 - 18 - 18)/18 + (2 * 2)/(2 * 20) + 0 = 14.6667 + 0.1 = 14.7667,
    // z = 6 / 3.84274 = 1.561385, p = 0.1184329 (scipy asymptotic: 0.1184329289166719).
    const r = kendallTauB([1, 2, 2, 3, 4], [1, 3, 2, 2, 4]);
    expectClose(r.value, 2 / 3, 1e-12);
    expectClose(r.pValue, 0.1184329289166719, 1e-10);
  });

  it('handles a pair tied in both series', () => {
    // Points (1,1) (1,1) (2,2) (3,2): (1,2) tied in both, (3,4) tied in y only,
    // the other 4 concordant. S = 4; n1 = 1, n2 = 2 (y has two pairs):
    // tau_b = 4 / sqrt(5 * 4) = 0.894427.
    // Var S = (12*13 - 18 - 36)/18 + (2 * 4)/(2 * 12) = 5.6667 + 0.3333 = 6,
    // p = erfc(4 / sqrt(6) / sqrt(2)) = 0.10247043 (scipy asymptotic: 0.10247043485974937).
    const r = kendallTauB([1, 1, 2, 3], [1, 1, 2, 2]);
    expectClose(r.value, 4 / Math.sqrt(20), 1e-12);
    expectClose(r.pValue, 0.10247043485974937, 1e-10);
  });

  it('matches scipy on a longer series with groups of three ties', () => {
    // scipy.stats.kendalltau(x, y, method='asymptotic') gives 0.3535533905932738,
    // 0.31985756818270716; the triple-tie term of the variance is non-zero here.
    const r = kendallTauB([1, 1, 2, 2, 3, 3, 4], [1, 2, 1, 3, 3, 3, 2]);
    expectClose(r.value, 0.3535533905932738, 1e-12);
    expectClose(r.pValue, 0.31985756818270716, 1e-10);
  });

  it('is undefined (not NaN) for a constant series or fewer than 2 points', () => {
    const none = { value: undefined, pValue: undefined };
    expect(kendallTauB([1, 2, 3], [5, 5, 5])).toEqual({ ...none, n: 3 });
    expect(kendallTauB([4], [1])).toEqual({ ...none, n: 1 });
    expect(kendallTauB([], [])).toEqual({ ...none, n: 0 });
  });

  it('refuses series of different lengths or with non-finite values', () => {
    expect(() => kendallTauB([1, 2], [1])).toThrow(/equal length, got 2 and 1/);
    expect(() => kendallTauB([1, NaN], [1, 2])).toThrow(/finite numbers, got NaN/);
  });
});

describe('pearson', () => {
  it('computes r by hand and its t-test p-value', () => {
    // x = 1..5, y = 2 4 5 4 5: means 3 and 4; dx = -2 -1 0 1 2, dy = -2 0 1 0 1.
    // Sxy = 4 + 0 + 0 + 0 + 2 = 6, Sxx = 10, Syy = 6, r = 6 / sqrt(60) = 0.7745967.
    // t = r sqrt(3 / (1 - 0.6)) = 2.1213 with 3 dof: p = 0.12402706 (scipy pearsonr:
    // 0.1240270626575546).
    const r = pearson([1, 2, 3, 4, 5], [2, 4, 5, 4, 5]);
    expectClose(r.value, 6 / Math.sqrt(60), 1e-12);
    expectClose(r.pValue, 0.1240270626575546, 1e-10);
  });

  it('with 1 dof the p-value is the Cauchy tail 1 - (2/pi) atan|t|', () => {
    // x = 1 2 3, y = 1 3 2: Sxy = 1, Sxx = Syy = 2, r = 1/2, t = r / sqrt(1 - r^2) =
    // 1/sqrt(3), atan = pi/6, so p = 1 - 1/3 = 2/3 exactly.
    const r = pearson([1, 2, 3], [1, 3, 2]);
    expectClose(r.value, 0.5, 1e-12);
    expectClose(r.pValue, 2 / 3, 1e-12);
  });

  it('with 2 dof the p-value is 1 - |t| / sqrt(2 + t^2)', () => {
    // x = 1 2 3 4, y = 1 3 2 5: means 2.5 and 2.75; dx = -1.5 -0.5 0.5 1.5,
    // dy = -1.75 0.25 -0.75 2.25. Sxy = 2.625 - 0.125 - 0.375 + 3.375 = 5.5, Sxx = 5,
    // Syy = 3.0625 + 0.0625 + 0.5625 + 5.0625 = 8.75, r = 5.5 / sqrt(43.75) = 0.8315218.
    const r = pearson([1, 2, 3, 4], [1, 3, 2, 5]);
    const rv = 5.5 / Math.sqrt(5 * 8.75);
    const t = rv * Math.sqrt(2 / (1 - rv * rv));
    expectClose(r.value, rv, 1e-12);
    expectClose(r.pValue, 1 - t / Math.sqrt(2 + t * t), 1e-12);
    // scipy pearsonr agrees: 0.1684781593797.
    expectClose(r.pValue, 0.1684781593797, 1e-10);
  });

  it('matches scipy on a strongly correlated series of 30 (tiny p-value)', () => {
    const x = Array.from({ length: 30 }, (_, i) => i);
    const y = x.map((v) => v + 5 * Math.sin(v));
    const r = pearson(x, y);
    // scipy.stats.pearsonr: 0.925476862734409, 2.5196258949448387e-13.
    expectClose(r.value, 0.925476862734409, 1e-12);
    expect(Math.abs((r.pValue as number) / 2.5196258949448387e-13 - 1)).toBeLessThan(1e-8);
    // kendalltau(method='asymptotic') on the same data: 0.7517241379310345, 5.410856001240533e-09.
    const tau = kendallTauB(x, y);
    expectClose(tau.value, 0.7517241379310345, 1e-12);
    expect(Math.abs((tau.pValue as number) / 5.410856001240533e-9 - 1)).toBeLessThan(1e-8);
  });

  it('perfect linear relations give 1 or -1 with p-value 0', () => {
    expect(pearson([1, 2, 3, 4], [3, 5, 7, 9])).toMatchObject({ value: 1, pValue: 0 });
    expect(pearson([1, 2, 3, 4], [9, 7, 5, 3])).toMatchObject({ value: -1, pValue: 0 });
  });

  it('is undefined for a constant series; with 2 points r exists but p does not', () => {
    expect(pearson([1, 2, 3], [2, 2, 2])).toEqual({ value: undefined, pValue: undefined, n: 3 });
    expect(pearson([1, 2], [5, 3])).toEqual({ value: -1, pValue: undefined, n: 2 });
    expect(pearson([1], [1])).toEqual({ value: undefined, pValue: undefined, n: 1 });
  });
});

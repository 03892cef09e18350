/** Small statistics for benchmarks: median, percentiles (nearest rank), and how a figure grows with size. */

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Nearest-rank percentile (p in 0..100) of the values; NaN when there are none. */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const rank = Math.min(s.length, Math.max(1, Math.ceil((p / 100) * s.length)));
  return s[rank - 1]!;
}

export const round = (n: number, digits = 0): number => {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
};

/**
 * How y grows with x over the measured sizes: the least-squares slope (y per unit of x) and the exponent k of
 * y ∝ x^k from a log-log fit — k ≈ 1 is linear, k > 1.2 worse than linear, k < 0.8 better (fixed costs dominate).
 */
export function growth(points: readonly [number, number][]): {
  slope: number;
  exponent: number;
  shape: string;
} {
  const fit = (ps: readonly [number, number][]) => {
    const n = ps.length;
    const mx = ps.reduce((a, p) => a + p[0], 0) / n;
    const my = ps.reduce((a, p) => a + p[1], 0) / n;
    const sxx = ps.reduce((a, p) => a + (p[0] - mx) ** 2, 0);
    const sxy = ps.reduce((a, p) => a + (p[0] - mx) * (p[1] - my), 0);
    return sxx === 0 ? NaN : sxy / sxx;
  };
  if (points.length < 2) return { slope: NaN, exponent: NaN, shape: 'one size only' };
  const slope = fit(points);
  const logs = points
    .filter(([x, y]) => x > 0 && y > 0)
    .map(([x, y]) => [Math.log(x), Math.log(y)] as [number, number]);
  const exponent = logs.length >= 2 ? fit(logs) : NaN;
  const shape = Number.isNaN(exponent)
    ? 'unknown'
    : exponent > 1.2
      ? 'worse than linear'
      : exponent < 0.8
        ? 'sublinear (fixed costs dominate)'
        : 'about linear';
  return { slope, exponent, shape };
}

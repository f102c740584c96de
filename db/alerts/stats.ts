/*
 * Request-level drift tests. Each request is one unit: the steps of a request share its prompt and
 * context, so their outcomes are correlated and a per-step binomial test would overstate the evidence
 * many times over. A metric over a set of requests is a ratio estimator R = sum(x_i) / sum(n_i)
 * (accepted / drafted, summed probability / tokens); its residuals e_i = x_i - R n_i are modelled as
 * independent across requests with variance s2 * n_i^2 and third cumulant k3 * n_i^3 (cluster
 * scaling: a longer request is not many independent draws).
 *
 * The test compares a window with a baseline. Both spread and skew are estimated on the baseline (the
 * larger, known-normal sample): a small window's own variance estimate is noisiest exactly when its mean
 * is extreme, which made a Welch t-test fire too often (the previous attempt measured 0.12-0.27% against
 * a stated 0.1%). The critical value is Student's t quantile (baseline degrees of freedom, for the
 * estimated variance) corrected for skewness by the Cornish-Fisher term, since per-request acceptance
 * is bounded and skewed and a 30-request mean is not yet normal in its 0.1% tail.
 */

export interface Unit {
  /** The summed quantity (accepted tokens, summed probabilities). */
  x: number;
  /** Its weight (drafted tokens, tokens averaged over). Units with n = 0 carry no information. */
  n: number;
}

export interface RatioSample {
  units: number;
  /** sum(x) / sum(n) */
  mean: number;
  sumN: number;
  sumN2: number;
  sumN3: number;
}

export interface Spread {
  /** Per-unit residual variance on the scale of n^2. */
  s2: number;
  /** Per-unit residual third cumulant on the scale of n^3. */
  k3: number;
}

export function ratioSample(units: readonly Unit[]): RatioSample {
  let sx = 0;
  let sn = 0;
  let sn2 = 0;
  let sn3 = 0;
  let count = 0;
  for (const u of units) {
    if (!(u.n > 0)) continue;
    sx += u.x;
    sn += u.n;
    sn2 += u.n * u.n;
    sn3 += u.n * u.n * u.n;
    count += 1;
  }
  return { units: count, mean: sn > 0 ? sx / sn : NaN, sumN: sn, sumN2: sn2, sumN3: sn3 };
}

/** Residual spread of a sample around its own ratio (unbiased in the variance). */
export function spreadOf(units: readonly Unit[]): Spread {
  const sample = ratioSample(units);
  let e2 = 0;
  let e3 = 0;
  for (const u of units) {
    if (!(u.n > 0)) continue;
    const e = u.x - sample.mean * u.n;
    e2 += e * e;
    e3 += e * e * e;
  }
  const m = sample.units;
  return {
    s2: m > 1 ? ((e2 / sample.sumN2) * m) / (m - 1) : NaN,
    k3: m > 2 ? ((e3 / sample.sumN3) * m * m) / ((m - 1) * (m - 2)) : 0,
  };
}

/** Inverse of the standard normal CDF (Acklam's rational approximation, |error| < 1.2e-9 after one Newton step). */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`normalQuantile: p must be in (0, 1), got ${p}`);
  const a = [-39.69683028665376, 220.9460984245205, -275.928510446969, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  let x: number;
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  } else if (p <= 1 - low) {
    const q = p - 0.5;
    const r = q * q;
    x = ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
  } else {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  return x;
}

/** Student's t quantile by the Cornish-Fisher expansion in 1/df (accurate to ~1e-3 for df >= 10). */
export function tQuantile(p: number, df: number): number {
  const z = normalQuantile(p);
  const z3 = z ** 3;
  const z5 = z ** 5;
  const z7 = z ** 7;
  return z + (z3 + z) / (4 * df) + (5 * z5 + 16 * z3 + 3 * z) / (96 * df ** 2) + (3 * z7 + 19 * z5 + 17 * z3 - 15 * z) / (384 * df ** 3);
}

export type Side = "lower" | "both";

export interface DriftTest {
  /** The window's metric. */
  value: number;
  /** The baseline's metric. */
  baseline: number;
  /** The window value past which the test breaches on the side the value lies (minShift included). */
  threshold: number;
  /** (value - baseline) / sd under "no change". */
  z: number;
  breach: boolean;
  windowUnits: number;
  baselineUnits: number;
}

/**
 * Does the window differ from the baseline beyond chance at false-alarm rate `alpha` (and by at least
 * `minShift`)? "lower" tests a drop only; "both" splits alpha over the two tails.
 */
export function driftTest(baselineUnits: readonly Unit[], windowUnits: readonly Unit[], alpha: number, side: Side, minShift: number): DriftTest | null {
  const b = ratioSample(baselineUnits);
  const w = ratioSample(windowUnits);
  if (b.units < 3 || w.units < 2) return null;
  const { s2, k3 } = spreadOf(baselineUnits);
  const varW = (s2 * w.sumN2) / w.sumN ** 2;
  const varB = (s2 * b.sumN2) / b.sumN ** 2;
  const sd = Math.sqrt(varW + varB);
  const k3D = (k3 * w.sumN3) / w.sumN ** 3 - (k3 * b.sumN3) / b.sumN ** 3;
  const skew = sd > 0 ? k3D / sd ** 3 : 0;
  const diff = w.mean - b.mean;
  const tail = side === "lower" ? alpha : alpha / 2;
  const df = Math.max(b.units - 1, 2);
  // Cornish-Fisher: the q-quantile of a standardised variable with skewness g is about z + g (z^2 - 1) / 6.
  const quantile = (p: number) => {
    const t = tQuantile(p, df);
    return t + (skew * (t * t - 1)) / 6;
  };
  const lowerCrit = Math.min(quantile(tail) * sd, -minShift);
  const upperCrit = Math.max(quantile(1 - tail) * sd, minShift);
  const z = sd > 0 ? diff / sd : diff === 0 ? 0 : diff > 0 ? Infinity : -Infinity;
  const breachLow = diff < lowerCrit;
  const breachHigh = side === "both" && diff > upperCrit;
  const useUpper = side === "both" && diff > 0;
  return {
    value: w.mean,
    baseline: b.mean,
    threshold: b.mean + (useUpper ? upperCrit : lowerCrit),
    z,
    breach: breachLow || breachHigh,
    windowUnits: w.units,
    baselineUnits: b.units,
  };
}

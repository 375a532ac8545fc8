// Black-76 for European options on a forward: price, implied volatility and the greeks the option
// chain shows. Pure numbers in, numbers or null out — never NaN or Infinity (docs/option-model.md).

/** Calendar days per year: the day count is ACT/365. */
export const DAYS_PER_YEAR = 365;
const MS_PER_YEAR = DAYS_PER_YEAR * 86_400_000;

/** Call or put, as OpenAlgo option symbols end. */
export type OptionType = "CE" | "PE";

/**
 * The normal CDF Φ(x) to double precision in both tails (Hart's 1968 rational approximation as given
 * by West, "Better approximations to cumulative normal functions", 2005), so deep out-of-the-money
 * prices keep their relative precision and implied volatility stays solvable there.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.ok(Math.abs(normCdf(1.96) - 0.9750021048517795) < 1e-14);
 * assert.equal(normCdf(0), 0.5);
 * ```
 */
export function normCdf(x: number): number {
  const z = Math.abs(x);
  let tail: number;
  if (z > 37) tail = 0;
  else {
    const e = Math.exp(-0.5 * z * z);
    if (z < 7.07106781186547) {
      const num = (((((0.0352624965998911 * z + 0.700383064443688) * z + 6.37396220353165) * z +
                    33.912866078383) * z + 112.079291497871) * z + 221.213596169931) * z +
        220.206867912376;
      const den = ((((((0.0883883476483184 * z + 1.75566716318264) * z + 16.064177579207) * z +
                        86.7807322029461) * z + 296.564248779674) * z + 637.333633378831) * z +
            793.826512519948) * z + 440.413735824752;
      tail = e * num / den;
    } else {
      tail = e / (z + 1 / (z + 2 / (z + 3 / (z + 4 / (z + 0.65))))) / 2.506628274631;
    }
  }
  return x > 0 ? 1 - tail : tail;
}

/**
 * The standard normal density φ(x).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.ok(Math.abs(normPdf(0) - 0.3989423) < 1e-7);
 * ```
 */
export function normPdf(x: number): number {
  return Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
}

/**
 * Years from `now` to `expiry` (both epoch ms), ACT/365, never negative.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(yearsToExpiry(0, 365 * 86_400_000), 1);
 * assert.equal(yearsToExpiry(10, 0), 0);
 * ```
 */
export function yearsToExpiry(now: number, expiry: number): number {
  return Math.max(0, (expiry - now) / MS_PER_YEAR);
}

/**
 * The forward of a spot price with carry: F = S·e^{(r−q)T}. Used when no future of the expiry
 * streams (q is the dividend yield; 0 for the chain).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.ok(Math.abs(forwardFromSpot(100, 0.05, 0, 1) - 105.1271096) < 1e-6);
 * ```
 */
export function forwardFromSpot(
  spot: number,
  rate: number,
  dividendYield: number,
  t: number,
): number {
  return spot * Math.exp((rate - dividendYield) * t);
}

/**
 * The Black-76 price of a European option on forward `f`, strike `k`, `t` years to expiry, volatility
 * `vol` (a fraction) and continuously compounded `rate`: e^{−rT}[F·Φ(d1) − K·Φ(d2)] for a call,
 * e^{−rT}[K·Φ(−d2) − F·Φ(−d1)] for a put. At t = 0 or vol = 0 it is the discounted intrinsic value.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * // Hull, Options, Futures and Other Derivatives, Example 18.6 (8th ed.): F=20, K=20, r=9%,
 * // T=4/12, σ=25% → the put is worth 1.12.
 * assert.equal(black76Price(20, 20, 4 / 12, 0.25, 0.09, "PE").toFixed(2), "1.12");
 * ```
 */
export function black76Price(
  f: number,
  k: number,
  t: number,
  vol: number,
  rate: number,
  type: OptionType,
): number {
  const df = Math.exp(-rate * t);
  const sd = vol * Math.sqrt(t);
  if (!(sd > 0)) return df * Math.max(0, type === "CE" ? f - k : k - f);
  const d1 = (Math.log(f / k) + 0.5 * sd * sd) / sd;
  const d2 = d1 - sd;
  return type === "CE"
    ? df * (f * normCdf(d1) - k * normCdf(d2))
    : df * (k * normCdf(-d2) - f * normCdf(-d1));
}

/** Lowest and highest volatility the solver considers (0.1 % and 500 %). */
export const VOL_BOUNDS = { min: 0.001, max: 5 } as const;

/**
 * The Black-76 implied volatility (a fraction) of an option price, or null when there is none:
 * no time left, a price at or below the discounted intrinsic value, at or above the no-arbitrage
 * bound (the discounted forward for a call, strike for a put), outside {@link VOL_BOUNDS}, or any
 * input not a finite positive number. Newton steps on vega from a Brenner–Subrahmanyam start,
 * falling back to bisection whenever a step leaves the bracket, to a price tolerance of 1e-9.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const p = black76Price(25000, 25200, 30 / 365, 0.14, 0.065, "CE");
 * assert.ok(Math.abs(impliedVol(p, 25000, 25200, 30 / 365, 0.065, "CE")! - 0.14) < 1e-7);
 * assert.equal(impliedVol(10, 25000, 24000, 30 / 365, 0.065, "CE"), null); // below intrinsic
 * ```
 */
export function impliedVol(
  price: number,
  f: number,
  k: number,
  t: number,
  rate: number,
  type: OptionType,
): number | null {
  if (!(price > 0 && f > 0 && k > 0 && t > 0) || !allFinite(price, f, k, t, rate)) return null;
  const df = Math.exp(-rate * t);
  const intrinsic = df * Math.max(0, type === "CE" ? f - k : k - f);
  const upper = df * (type === "CE" ? f : k);
  if (price <= intrinsic || price >= upper) return null;
  let lo: number = VOL_BOUNDS.min;
  let hi: number = VOL_BOUNDS.max;
  if (
    price < black76Price(f, k, t, lo, rate, type) || price > black76Price(f, k, t, hi, rate, type)
  ) {
    return null;
  }
  const tol = 1e-9 * Math.max(1, price);
  // Brenner–Subrahmanyam: the at-the-money price is ≈ 0.4·F·σ√T·DF.
  let vol = Math.min(hi, Math.max(lo, price / (0.3989 * f * df * Math.sqrt(t))));
  const sqrtT = Math.sqrt(t);
  for (let i = 0; i < 100; i++) {
    const diff = black76Price(f, k, t, vol, rate, type) - price;
    if (Math.abs(diff) < tol) return vol;
    // The price rises with volatility: keep the bracket around the root.
    if (diff > 0) hi = vol;
    else lo = vol;
    const sd = vol * sqrtT;
    const d1 = (Math.log(f / k) + 0.5 * sd * sd) / sd;
    const vega = df * f * normPdf(d1) * sqrtT;
    let next = vega > 1e-12 ? vol - diff / vega : Number.NaN;
    if (!(next > lo && next < hi)) next = 0.5 * (lo + hi);
    if (hi - lo < 1e-12) return next;
    vol = next;
  }
  return vol;
}

/** The chain's greeks of one option, in the units the `option_chain` frame carries. */
export interface Greeks {
  /** ∂V/∂U, U being the underlying price the chain shows (future, or spot with carry). */
  delta: number;
  /** ∂²V/∂U². */
  gamma: number;
  /** Value change per calendar day passing, everything else fixed (negative when it decays). */
  theta: number;
  /** Value change per one volatility point (σ + 0.01). */
  vega: number;
}

/**
 * The greeks of a European option under Black-76. `carry` says how the shown underlying relates to
 * the forward: 0 when it is the future itself (F = U), else r − q for a spot with carry
 * (F = U·e^{carry·T}), so delta and gamma are with respect to the price the chain shows and theta
 * includes the forward's drift toward spot. Null when t·σ² is too small to matter (expired), an input
 * is not finite, or a greek would overflow.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * // An at-the-money call on a future: delta ≈ ½·e^{−rT}, theta negative.
 * const g = black76Greeks(25000, 25000, 30 / 365, 0.14, 0.065, "CE", 0)!;
 * assert.ok(Math.abs(g.delta - 0.5) < 0.02 && g.theta < 0 && g.vega > 0);
 * ```
 */
export function black76Greeks(
  f: number,
  k: number,
  t: number,
  vol: number,
  rate: number,
  type: OptionType,
  carry: number,
): Greeks | null {
  if (!(t > 0 && vol > 0 && f > 0 && k > 0) || !allFinite(f, k, t, vol, rate, carry)) return null;
  const df = Math.exp(-rate * t);
  const sqrtT = Math.sqrt(t);
  const sd = vol * sqrtT;
  // Below this the option is as good as expired: gamma would overflow.
  if (!(sd > 1e-10)) return null;
  const d1 = (Math.log(f / k) + 0.5 * sd * sd) / sd;
  const d2 = d1 - sd;
  const pdf = normPdf(d1);
  const call = type === "CE";
  const deltaF = call ? df * normCdf(d1) : -df * normCdf(-d1);
  const gammaF = df * pdf / (f * sd);
  const price = call
    ? df * (f * normCdf(d1) - k * normCdf(d2))
    : df * (k * normCdf(-d2) - f * normCdf(-d1));
  // With F fixed, time passing only shortens T: ∂V/∂t = −∂V/∂T.
  const thetaF = -df * f * pdf * vol / (2 * sqrtT) + rate * price;
  // dF/dU = e^{carry·T}; as time passes F drifts by −carry·F per year.
  const c = Math.exp(carry * t);
  const delta = deltaF * c;
  const gamma = gammaF * c * c;
  const theta = (thetaF - carry * f * deltaF) / DAYS_PER_YEAR;
  const vega = df * f * pdf * sqrtT / 100;
  return allFinite(delta, gamma, theta, vega) ? { delta, gamma, theta, vega } : null;
}

function allFinite(...xs: number[]): boolean {
  for (const x of xs) if (!Number.isFinite(x)) return false;
  return true;
}

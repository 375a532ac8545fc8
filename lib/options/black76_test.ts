// Black-76 against textbook values, put-call parity, finite differences, IV round trips, edge cases
// and random inputs (no NaN or Infinity may come out).

import assert from "node:assert/strict";
import {
  black76Greeks,
  black76Price,
  forwardFromSpot,
  impliedVol,
  normCdf,
  type OptionType,
  VOL_BOUNDS,
} from "./black76.ts";
/** Seeded uniform numbers in [0, 1) (a Weyl sequence, mixed), so a failing case can be replayed. */
class Prng {
  #state: number;
  constructor(seed: number) {
    this.#state = seed >>> 0;
  }
  next(): number {
    this.#state = (this.#state + 0x9e3779b9) >>> 0;
    let x = this.#state;
    x = Math.imul(x ^ (x >>> 16), 0x21f0aaad);
    x = Math.imul(x ^ (x >>> 15), 0x735a2d97);
    return ((x ^ (x >>> 15)) >>> 0) / 4294967296;
  }
}

function close(actual: number, expected: number, tol: number, what = ""): void {
  assert.ok(
    Math.abs(actual - expected) <= tol,
    `${what}: ${actual} is not within ${tol} of ${expected}`,
  );
}

Deno.test("normCdf matches tabulated values, including the tails", () => {
  close(normCdf(0), 0.5, 1e-12);
  close(normCdf(1), 0.8413447461, 2e-8);
  close(normCdf(-1.5), 0.0668072013, 1e-8);
  close(normCdf(2.5758293), 0.995, 1e-8);
  // Relative precision deep in the tail: Φ(−8) = 6.22096e-16.
  close(normCdf(-8) / 6.220960574e-16, 1, 1e-6);
  assert.equal(normCdf(-40), 0);
  assert.equal(normCdf(40), 1);
});

Deno.test("Hull's Black's-model example: futures put F=20 K=20 r=9% T=4m σ=25% is 1.12", () => {
  // Hull, Options, Futures, and Other Derivatives, chapter "Futures Options", Example 18.6 (8th ed.)
  const p = black76Price(20, 20, 4 / 12, 0.25, 0.09, "PE");
  assert.equal(p.toFixed(2), "1.12");
  // At the money on a future the call equals the put.
  close(black76Price(20, 20, 4 / 12, 0.25, 0.09, "CE"), p, 1e-12);
});

Deno.test("Hull's Black-Scholes example through the forward: S=42 K=40 r=10% σ=20% T=0.5", () => {
  // Hull, Example 15.6 (8th ed.): c = 4.76, p = 0.81. Black-76 on F = S·e^{rT} is Black-Scholes.
  const t = 0.5;
  const f = forwardFromSpot(42, 0.1, 0, t);
  assert.equal(black76Price(f, 40, t, 0.2, 0.1, "CE").toFixed(2), "4.76");
  assert.equal(black76Price(f, 40, t, 0.2, 0.1, "PE").toFixed(2), "0.81");
});

Deno.test("Hull's Greek-letters example: S=49 K=50 r=5% σ=20% T=20 weeks", () => {
  // Hull, chapter "The Greek Letters" (8th ed., Examples 19.1/19.4/19.6/19.7): price 2.40,
  // delta 0.522, gamma 0.066, theta −4.31 a year, vega 12.1 per unit of σ (0.121 a point).
  const t = 0.3846;
  const f = forwardFromSpot(49, 0.05, 0, t);
  assert.equal(black76Price(f, 50, t, 0.2, 0.05, "CE").toFixed(2), "2.40");
  const g = black76Greeks(f, 50, t, 0.2, 0.05, "CE", 0.05)!;
  assert.equal(g.delta.toFixed(3), "0.522");
  assert.equal(g.gamma.toFixed(3), "0.066");
  close(g.theta * 365, -4.31, 0.005, "theta per year");
  assert.equal(g.vega.toFixed(3), "0.121");
});

Deno.test("put-call parity: C − P = e^{−rT}(F − K) over many strikes and vols", () => {
  const rng = new Prng(11);
  for (let i = 0; i < 2000; i++) {
    const f = 1000 + 60000 * rng.next();
    const k = f * (0.7 + 0.6 * rng.next());
    const t = 0.001 + 1.5 * rng.next();
    const vol = 0.05 + 0.8 * rng.next();
    const r = 0.1 * rng.next();
    const c = black76Price(f, k, t, vol, r, "CE");
    const p = black76Price(f, k, t, vol, r, "PE");
    close(c - p, Math.exp(-r * t) * (f - k), 1e-9 * f, `parity #${i}`);
  }
});

function bump(
  fn: (u: number) => number,
  u: number,
  h: number,
): { first: number; second: number } {
  const up = fn(u + h), mid = fn(u), down = fn(u - h);
  return { first: (up - down) / (2 * h), second: (up - 2 * mid + down) / (h * h) };
}

Deno.test("greeks equal finite differences of the price, on a future and on a spot with carry", () => {
  const rng = new Prng(5);
  const day = 1 / 365;
  for (let i = 0; i < 300; i++) {
    const u = 20000 + 40000 * rng.next();
    const k = u * (0.85 + 0.3 * rng.next());
    const t = 5 * day + 0.5 * rng.next();
    const vol = 0.08 + 0.4 * rng.next();
    const r = 0.065;
    const type: OptionType = rng.next() < 0.5 ? "CE" : "PE";
    for (const carry of [0, r]) {
      // The price as a function of the shown underlying and of the time left.
      const price = (uu: number, tt: number, vv = vol) =>
        black76Price(uu * Math.exp(carry * tt), k, tt, vv, r, type);
      const g = black76Greeks(u * Math.exp(carry * t), k, t, vol, r, type, carry)!;
      const h = u * 1e-4;
      const du = bump((x) => price(x, t), u, h);
      const what = `#${i} ${type} carry=${carry}`;
      close(g.delta, du.first, 1e-5, `delta ${what}`);
      close(g.gamma, du.second, 1e-4 * Math.max(1e-3, Math.abs(g.gamma)) + 1e-8, `gamma ${what}`);
      // Theta per calendar day: the price tomorrow minus today's, by a central difference in T.
      const dt = 1e-5;
      const thetaFd = -(price(u, t + dt) - price(u, t - dt)) / (2 * dt) / 365;
      close(g.theta, thetaFd, 1e-6 * Math.max(1, Math.abs(thetaFd)), `theta ${what}`);
      const vegaFd = (price(u, t, vol + 1e-5) - price(u, t, vol - 1e-5)) / 2e-5 / 100;
      close(g.vega, vegaFd, 1e-6 * Math.max(1, vegaFd), `vega ${what}`);
    }
  }
});

Deno.test("implied volatility round-trips over strikes 0.6–1.4·F, vols 3–300 %, 1 day – 2 years", () => {
  const rng = new Prng(99);
  let solved = 0;
  for (let i = 0; i < 5000; i++) {
    const f = 100 + 60000 * rng.next();
    const k = f * (0.6 + 0.8 * rng.next());
    const t = 1 / 365 + 2 * rng.next();
    const vol = 0.03 + 2.97 * rng.next();
    const r = 0.1 * rng.next();
    const type: OptionType = rng.next() < 0.5 ? "CE" : "PE";
    const p = black76Price(f, k, t, vol, r, type);
    const iv = impliedVol(p, f, k, t, r, type);
    // A price indistinguishable from intrinsic (far OTM, tiny vega) has no well-defined vol.
    const vega = black76Greeks(f, k, t, vol, r, type, 0)!.vega * 100;
    if (vega < 1e-6 * Math.max(1, p)) continue;
    assert.notEqual(iv, null, `no iv for #${i} p=${p}`);
    close(black76Price(f, k, t, iv!, r, type), p, 1e-8 * Math.max(1, p), `reprice #${i}`);
    // The solver stops within 1e-9 of the price: the vol it finds is as close as vega allows.
    close(iv!, vol, 1e-7 + 2e-9 * Math.max(1, p) / vega, `iv #${i}`);
    solved++;
  }
  assert.ok(solved > 4000, `${solved} solved`);
});

Deno.test("implied volatility is null where no volatility explains the price", () => {
  const t = 30 / 365, r = 0.065;
  const df = Math.exp(-r * t);
  // Below and exactly at intrinsic, at and above the upper bound, zero and negative prices.
  assert.equal(impliedVol(900, 25000, 24000, t, r, "CE"), null);
  assert.equal(impliedVol(1000 * df, 25000, 24000, t, r, "CE"), null);
  assert.equal(impliedVol(25000 * df, 25000, 24000, t, r, "CE"), null);
  assert.equal(impliedVol(30000, 25000, 24000, t, r, "PE"), null);
  assert.equal(impliedVol(0, 25000, 25000, t, r, "CE"), null);
  assert.equal(impliedVol(-1, 25000, 25000, t, r, "PE"), null);
  // No time left, a zero or non-finite input.
  assert.equal(impliedVol(100, 25000, 25000, 0, r, "CE"), null);
  assert.equal(impliedVol(100, 0, 25000, t, r, "CE"), null);
  assert.equal(impliedVol(100, 25000, 0, t, r, "CE"), null);
  assert.equal(impliedVol(Number.NaN, 25000, 25000, t, r, "CE"), null);
  assert.equal(impliedVol(100, Infinity, 25000, t, r, "CE"), null);
  assert.equal(impliedVol(100, 25000, 25000, t, Number.NaN, "CE"), null);
  // A price needing more than the top bound (500 %).
  const over = black76Price(25000, 25000, t, 6, r, "CE");
  assert.equal(impliedVol(over, 25000, 25000, t, r, "CE"), null);
  // Deep in and out of the money, still solvable.
  const deepItm = black76Price(25000, 20000, t, 0.3, r, "CE");
  close(impliedVol(deepItm, 25000, 20000, t, r, "CE")!, 0.3, 1e-4, "deep ITM");
  const deepOtm = black76Price(25000, 30000, t, 0.3, r, "CE");
  close(impliedVol(deepOtm, 25000, 30000, t, r, "CE")!, 0.3, 1e-6, "deep OTM");
});

Deno.test("t → 0: the price tends to intrinsic, greeks are null at 0 and finite just before", () => {
  assert.equal(black76Price(25100, 25000, 0, 0.2, 0.065, "CE"), 100);
  assert.equal(black76Price(25100, 25000, 0, 0.2, 0.065, "PE"), 0);
  assert.equal(black76Greeks(25100, 25000, 0, 0.2, 0.065, "CE", 0), null);
  const minute = 60_000 / (365 * 86_400_000);
  close(black76Price(25100, 25000, minute, 0.2, 0.065, "CE"), 100, 1e-3);
  const g = black76Greeks(25000, 25000, minute, 0.2, 0.065, "CE", 0)!;
  for (const v of Object.values(g)) assert.ok(Number.isFinite(v));
});

Deno.test("fuzz: random and hostile inputs never give NaN or Infinity", () => {
  const rng = new Prng(2026);
  const pick = () => {
    const r = rng.next();
    if (r < 0.05) return 0;
    if (r < 0.08) return -rng.next() * 100;
    if (r < 0.1) return 1e-300;
    if (r < 0.12) return 1e300;
    if (r < 0.14) return Number.NaN;
    if (r < 0.16) return Infinity;
    return Math.exp(20 * rng.next() - 8);
  };
  for (let i = 0; i < 20000; i++) {
    const [p, f, k, t, v] = [pick(), pick(), pick(), pick(), pick()];
    const r = rng.next() < 0.9 ? 0.2 * rng.next() - 0.05 : pick();
    const type: OptionType = rng.next() < 0.5 ? "CE" : "PE";
    const iv = impliedVol(p, f, k, t, r, type);
    assert.ok(iv === null || (iv >= VOL_BOUNDS.min && iv <= VOL_BOUNDS.max), `iv ${iv} #${i}`);
    const g = black76Greeks(
      f,
      k,
      Math.min(t, 10),
      Math.min(v, 10),
      Math.min(Math.abs(r), 1),
      type,
      0,
    );
    if (g !== null && Number.isFinite(f) && Number.isFinite(k) && f < 1e12 && k < 1e12) {
      for (const [name, x] of Object.entries(g)) {
        assert.ok(Number.isFinite(x), `${name}=${x} for f=${f} k=${k} t=${t} v=${v} #${i}`);
      }
    }
  }
});

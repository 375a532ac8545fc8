// Delivering ticks to subscribers: the live path (one shared update per mode per tick, held
// subscribers skipped while the gate is paused) and the replay of what held subscribers missed.

import { type DepthData, type LtpData, projectTick, type QuoteData } from "../project.ts";
import { instrumentKey, type Mode, type Tick } from "../types.ts";
import type { RecentTicks } from "./ring.ts";
import type { Subscriber } from "./subscriber.ts";
import { KIND_MODE, type MarketDataUpdate, type RecentTick, type TickFlags } from "./types.ts";

/** The mode of the payload a subscriber of `kind` gets for a tick of `tickMode`. */
function dataMode(kind: Subscriber["kind"], tickMode: Mode): Mode {
  return kind === "all" ? tickMode : KIND_MODE[kind];
}

function makeUpdate(
  tick: Tick,
  mode: Mode,
  flags: TickFlags,
  replay: boolean,
  snapshot = false,
): MarketDataUpdate {
  return {
    exchange: tick.exchange,
    symbol: tick.symbol,
    mode,
    tick,
    data: projectTick(tick, mode) as LtpData | QuoteData | DepthData,
    flags,
    replay,
    snapshot,
  };
}

/**
 * Offers one accepted tick to its route (subscribers in dispatch order). While `paused`, holding
 * subscribers are skipped and marked `heldBack` so they can be replayed on release.
 */
export function dispatchTick(
  route: readonly Subscriber[],
  tick: Tick,
  flags: TickFlags,
  paused: boolean,
): void {
  if (route.length === 0) return;
  // One update per mode per tick, shared by every subscriber that wants that mode.
  let u1: MarketDataUpdate | undefined;
  let u2: MarketDataUpdate | undefined;
  let u3: MarketDataUpdate | undefined;
  let key: string | undefined;
  for (let i = 0; i < route.length; i++) {
    const s = route[i];
    if (tick.mode < s.minMode) continue;
    if (paused && s.hold) {
      s.heldBack = true;
      continue;
    }
    const mode = dataMode(s.kind, tick.mode);
    let u: MarketDataUpdate;
    if (mode === 1) u = u1 ??= makeUpdate(tick, 1, flags, false);
    else if (mode === 2) u = u2 ??= makeUpdate(tick, 2, flags, false);
    else u = u3 ??= makeUpdate(tick, 3, flags, false);
    if (s.inline) s.offer(u);
    else s.offer(u, key ??= instrumentKey(tick.exchange, tick.symbol));
  }
}

/**
 * On release of a pause: clears `heldBack` on every subscriber (given in dispatch order) and
 * replays, to those that asked for it, the ticks with `after < seq < before` they were held from.
 */
export function replayHeld(
  subscribers: readonly Subscriber[],
  recent: RecentTicks,
  after: number,
  before: number,
): void {
  for (const s of subscribers) {
    if (!s.heldBack) continue;
    s.heldBack = false;
    if (!s.replay) continue;
    let entries: RecentTick[];
    if (s.symbols) {
      entries = s.symbols.flatMap((i) => recent.between(i.exchange, i.symbol, after, before));
      if (s.symbols.length > 1) entries.sort((a, b) => a.seq - b.seq);
    } else {
      entries = recent.allBetween(after, before).sort((a, b) => a.seq - b.seq);
    }
    const updates: MarketDataUpdate[] = [];
    for (const e of entries) {
      if (e.tick.mode < s.minMode) continue;
      updates.push(makeUpdate(e.tick, dataMode(s.kind, e.tick.mode), e.flags, true));
    }
    s.offerReplay(updates);
  }
}

/**
 * Offers a new subscriber the cached latest tick of each of its instruments (`snapshot: true`),
 * through the same path as live ticks so later ticks follow it in order. `latest` answers from the
 * cache at the subscriber's lowest mode. A subscriber held by a paused gate gets none: it would be
 * acting on data the gate says not to trust. Subscribers without symbols get none (the whole cache
 * is not a last value).
 */
export function offerSnapshots(
  s: Subscriber,
  latest: (exchange: string, symbol: string, mode: Mode) => { tick: Tick; flags: TickFlags } | null,
  paused: boolean,
): void {
  if (!s.symbols || (paused && s.hold)) return;
  for (const i of s.symbols) {
    const cached = latest(i.exchange, i.symbol, s.minMode);
    if (!cached) continue;
    const { tick, flags } = cached;
    s.offer(makeUpdate(tick, dataMode(s.kind, tick.mode), flags, false, true));
  }
}

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

function makeUpdate(tick: Tick, mode: Mode, flags: TickFlags, replay: boolean): MarketDataUpdate {
  return {
    exchange: tick.exchange,
    symbol: tick.symbol,
    mode,
    tick,
    data: projectTick(tick, mode) as LtpData | QuoteData | DepthData,
    flags,
    replay,
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

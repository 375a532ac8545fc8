// The MarketDataService's option schemas: what the constructor and `subscribe()` accept, with the
// defaults (from the one defaults table) applied when a field is omitted.

import { z } from "zod";
import { consumerClassSchema } from "../budget/mod.ts";
import { MARKET_DATA_DEFAULTS as D } from "./defaults.ts";

/** Constructor options as validated (the registry, feed and clock are checked separately). */
export const serviceOptionsSchema = z.object({
  checkIntervalMs: z.number().int().positive().default(D.checkIntervalMs),
  staleAfterMs: z.number().positive().default(D.staleAfterMs),
  maxJumpPercent: z.number().positive().default(D.maxJumpPercent),
  maxExchangeAgeMs: z.number().positive().default(D.maxExchangeAgeMs),
  entryIdleMs: z.number().positive().default(D.entryIdleMs),
  ring: z.object({
    size: z.number().int().positive().default(D.ring.size),
    maxAgeMs: z.number().positive().default(D.ring.maxAgeMs),
  }).default(D.ring),
  replayLimit: z.number().int().positive().default(D.replayLimit),
  /** Keep recent ticks for every streamed instrument, not only those service subscribers watch. */
  ringAllSymbols: z.boolean().default(D.ringAllSymbols),
  queueLimit: z.number().int().positive().default(D.queueLimit),
  snapshotOnSubscribe: z.boolean().default(D.snapshotOnSubscribe),
});

/** Constructor options with defaults applied. */
export type ServiceOptions = z.infer<typeof serviceOptionsSchema>;

/** `subscribe()` options as validated (the callback is checked separately). */
export const subscribeOptionsSchema = z.object({
  priority: z.enum(["CRITICAL", "HIGH", "NORMAL", "LOW"]),
  kind: z.enum(["ltp", "quote", "depth", "all"]),
  name: z.string().min(1).max(100),
  symbols: z.array(z.object({ exchange: z.string().min(1), symbol: z.string().min(1) }))
    .min(1, "symbols must not be empty; omit it to receive every tick")
    .optional(),
  depth: z.number().int().min(1).max(50).default(5),
  holdWhilePaused: z.boolean().default(false),
  replayOnResume: z.boolean().default(false),
  consumerClass: consumerClassSchema.default("trading"),
}).refine((o) => !o.replayOnResume || o.holdWhilePaused, {
  message: "replayOnResume needs holdWhilePaused: a subscriber that is not held misses nothing",
});

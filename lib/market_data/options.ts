// The MarketDataService's option schemas: what the constructor and `subscribe()` accept, with the
// defaults applied when a field is omitted.

import { z } from "zod";

/** Constructor options as validated (the registry, feed and clock are checked separately). */
export const serviceOptionsSchema = z.object({
  checkIntervalMs: z.number().int().positive().default(5_000),
  staleAfterMs: z.number().positive().default(30_000),
  maxJumpPercent: z.number().positive().default(20),
  maxExchangeAgeMs: z.number().positive().default(60_000),
  entryIdleMs: z.number().positive().default(3_600_000),
  ring: z.object({
    size: z.number().int().positive().default(1_000),
    maxAgeMs: z.number().positive().default(600_000),
  }).default({ size: 1_000, maxAgeMs: 600_000 }),
  replayLimit: z.number().int().positive().default(1_000),
  /** Keep recent ticks for every streamed instrument, not only those service subscribers watch. */
  ringAllSymbols: z.boolean().default(false),
  queueLimit: z.number().int().positive().default(1_000),
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
}).refine((o) => !o.replayOnResume || o.holdWhilePaused, {
  message: "replayOnResume needs holdWhilePaused: a subscriber that is not held misses nothing",
});

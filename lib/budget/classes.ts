// Consumer classes and the stream-or-poll routing table: who may take a streaming slot, in what
// order of importance, and which data path each class (and the option chain) is served from.

import { z } from "zod";

/** Consumer classes, most important first. `trading` may use the reserved part of the budget. */
export const CONSUMER_CLASSES = ["trading", "monitoring", "display", "capture"] as const;

/** A consumer's class: decides its share of the streaming budget and its data path. */
export type ConsumerClass = typeof CONSUMER_CLASSES[number];

/** zod schema of a consumer class name. */
export const consumerClassSchema: z.ZodType<ConsumerClass> = z.enum(CONSUMER_CLASSES);

/** How a subscription is served: from the broker's stream (a slot) or its REST quote API (none). */
export type DataRoute = "stream" | "poll";

/** zod schema of a data route. */
export const dataRouteSchema: z.ZodType<DataRoute> = z.enum(["stream", "poll"]);

/**
 * The routing table: per class, and per feature, `stream` or `poll`. Every class streams by default
 * (as before classes existed); the option chain polls, so it never takes a trading slot.
 */
export const routingSchema = z.object({
  trading: dataRouteSchema.default("stream"),
  monitoring: dataRouteSchema.default("stream"),
  display: dataRouteSchema.default("stream"),
  capture: dataRouteSchema.default("stream"),
  optionChain: dataRouteSchema.default("poll"),
}).strict();

/** The parsed routing table. */
export type Routing = z.infer<typeof routingSchema>;

/** `40` (slots) or `"25%"` (of the broker's streaming capacity). */
const reserveSchema = z.union([
  z.number().int().min(0),
  z.string().regex(/^(100|[1-9]?[0-9])(\.[0-9]+)?%$/, 'must be a percentage like "25%"'),
]);

/** The subscription budget: the trading reserve, pre-emption and the stream-or-poll table. */
export const budgetSchema = z.object({
  /** Streaming slots (or a percentage of capacity) only `trading` consumers may use. */
  reserveTrading: reserveSchema.default(0),
  /** When `trading` needs a slot and none is free, evict the least recently used `display` key. */
  preemptDisplay: z.boolean().default(false),
  routing: routingSchema.default(() => routingSchema.parse({})),
  /** How often polled keys are fetched from the broker's REST quote API. */
  pollIntervalMs: z.number().int().min(200).default(1000),
}).strict();

/** The parsed budget section. */
export type BudgetConfig = z.infer<typeof budgetSchema>;

/**
 * Turns the configured reserve into slots for a capacity (percentages round down).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(reservedSlots("25%", 3000), 750);
 * assert.equal(reservedSlots(40, 3000), 40);
 * assert.equal(reservedSlots(5000, 3000), 3000);
 * ```
 */
export function reservedSlots(reserve: number | string, capacity: number): number {
  const slots = typeof reserve === "number"
    ? reserve
    : Math.floor(capacity * Number(reserve.slice(0, -1)) / 100);
  return Math.min(Math.max(0, slots), capacity);
}

// Public surface of lib/poll: the REST-quote poller behind `poll` routes, and QuoteSource, the
// stream-or-poll way in-process features (the option chain) hold instruments.

export { Poller, type PollerOptions, type PollerStats, type QuoteFetcher } from "./poller.ts";
export { RoutedRegistry } from "./routed.ts";
export {
  type InstrumentRef,
  type QuoteFeed,
  type QuoteFeedOptions,
  type QuoteSource,
  RegistryQuoteSource,
} from "./source.ts";

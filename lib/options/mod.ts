// Public surface of lib/options: Black-76 pricing, implied volatility and greeks, and the live
// option chain (its window over a quote source, PCR, max pain) behind `subscribe_option_chain`.

export {
  black76Greeks,
  black76Price,
  DAYS_PER_YEAR,
  forwardFromSpot,
  type Greeks,
  impliedVol,
  normCdf,
  normPdf,
  type OptionType,
  VOL_BOUNDS,
  yearsToExpiry,
} from "./black76.ts";
export {
  atmStrike,
  type ChainData,
  type ChainModel,
  type ChainRow,
  type ChainSide,
  maxPain,
  OptionChain,
  optionMark,
  putCallRatio,
} from "./chain.ts";
export {
  type ChainInstrument,
  type ChainQuotes,
  FeedChainQuotes,
  type InstrumentFeed,
} from "./quotes.ts";

// Candles (OHLCV bars) built from normalised ticks: the session grid, one series per instrument and
// interval, a reference-counted book of series, and bars of a finished tick sequence.

export {
  barEnd,
  barStart,
  CANDLE_INTERVALS,
  type CandleInterval,
  intervalMs,
  isCandleInterval,
  IST_OFFSET_MS,
  istDay,
  type Session,
  sessionOf,
  SESSIONS,
  type SessionWindow,
  sessionWindow,
} from "./session.ts";
export {
  type Candle,
  CandleSeries,
  type CandleSeriesOptions,
  type CandleSink,
  DEFAULT_GRACE_MS,
} from "./series.ts";
export { CandleBook } from "./book.ts";
export { buildCandles, type BuiltCandles } from "./history.ts";

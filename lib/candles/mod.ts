// Candles (OHLCV bars) built from normalised ticks: the session grid, one series per instrument and
// interval, and a reference-counted book of series.

export {
  barEnd,
  barStart,
  CANDLE_INTERVALS,
  type CandleInterval,
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

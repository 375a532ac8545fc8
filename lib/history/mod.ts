// Candle history: `GET /api/v1/candles` — bars built from the recorder's stored ticks by the live
// candle rules, continued by the gateway's live series in memory, as JSON or CSV.

export { CANDLES_PATH, type HistoryHost, type HistorySettings, installHistory } from "./http.ts";
export {
  type CandlesQuery,
  maxBarsIn,
  type ParamError,
  parseCandlesQuery,
  parseTime,
} from "./params.ts";
export {
  type RecordedScan,
  RecordedTickReader,
  type RecordingLocation,
  recordingLocation,
} from "./recorded.ts";
export {
  historyCandles,
  type HistoryResult,
  type HistorySources,
  type MemoryBars,
} from "./service.ts";
export { candlesCsv, CSV_COLUMNS } from "./csv.ts";

// The tick recorder process (`tickplex record`): bus → DuckDB (appender batches) → Parquet
// datasets, stats, the client of the gateway's capture API, and preparation of recordings for the
// replay adapter.
//
// Importing this module loads DuckDB's native addon (FFI). What other processes need lives
// elsewhere: capture mode's server side runs in the gateway (lib/capture), and the replay file
// format is read by the replay adapter's worker (lib/replay).

export {
  defaultParquetRoot,
  type FlushReport,
  Recorder,
  type RecorderOptions,
  type RecorderSummary,
} from "./recorder.ts";
export {
  openDatabase,
  type PendingEvent,
  type PendingTick,
  type PreviousRun,
  RecordingBusyError,
  TickStore,
} from "./store.ts";
export {
  type DropReason,
  EVENT_COLUMNS,
  type EventKind,
  type EventRow,
  EVENTS_TABLE,
  recordingDdl,
  sqlString,
  TICK_COLUMNS,
  TICKS_TABLE,
} from "./schema.ts";
export { parseSymbolSet, type SymbolSelector, type SymbolSet, symbolSet } from "./symbols.ts";
export {
  parquetLayout,
  recoverRolls,
  type RollOptions,
  type RollResult,
  rollToParquet,
  utcDayStart,
} from "./roll.ts";
export { openRecording, type RecordingReader, type RecordingSources } from "./recording.ts";
export { formatStats, type RecordingStats, recordingStats, type StatsRow } from "./stats.ts";
export { ohlcvSql } from "./queries.ts";
export {
  prepareReplay,
  type PrepareReplayOptions,
  type PrepareReplayResult,
} from "./replay_export.ts";
export { CaptureClient, type CaptureClientOptions, CaptureError } from "./capture_client.ts";
export { type ProgressFn, stderrProgress } from "./progress.ts";
export { RECORD_HELP, recordMain } from "./cli.ts";

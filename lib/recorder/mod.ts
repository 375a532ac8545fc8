// The tick recorder: bus → DuckDB (appender batches) → Parquet datasets, capture mode on the
// gateway, stats, and preparation of recordings for the replay adapter.
//
// Importing this module loads DuckDB's native addon (FFI). The gateway side of capture mode
// (`capture.ts`) and the replay file format (`replay_format.ts`) do not, and are imported directly
// by the gateway and the replay adapter.

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
export {
  openReplay,
  readReplayHeaderSync,
  recordToTick,
  type ReplayHeader,
  replayPathFor,
  type ReplayRecord,
  type ReplaySource,
} from "./replay_format.ts";
export {
  CAPTURE_PATH,
  type CaptureDeps,
  CaptureManager,
  captureRequestSchema,
  type CaptureResult,
  captureRoute,
  type CaptureRow,
  type HttpRoute,
  installCapture,
  releaseRequestSchema,
} from "./capture.ts";
export { CaptureClient, type CaptureClientOptions, CaptureError } from "./capture_client.ts";
export { type ProgressFn, stderrProgress } from "./progress.ts";
export { RECORD_HELP, recordMain } from "./cli.ts";

// Public surface of lib/replay: the prepared replay file (`.tpr`), written by the recorder process
// (`tickplex record --prepare-replay`) and read by the replay adapter's worker. No DuckDB here.

export {
  encodePreamble,
  openReplay,
  readReplayHeaderSync,
  recordToTick,
  REPLAY_EXTENSION,
  REPLAY_MAGIC,
  REPLAY_VERSION,
  type ReplayHeader,
  replayHeaderSchema,
  type ReplayInstrument,
  replayPathFor,
  type ReplayRecord,
  type ReplaySource,
} from "./format.ts";

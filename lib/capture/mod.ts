// Public surface of lib/capture: capture mode, the gateway side of recording — subscriptions the
// gateway holds on behalf of a recorder (`/api/v1/capture`). Runs in the gateway process; the
// recorder process talks to it over HTTP (lib/recorder's CaptureClient) and shares only its types.

export {
  CAPTURE_PATH,
  type CaptureDeps,
  type CaptureHost,
  CaptureManager,
  captureRequestSchema,
  type CaptureResult,
  captureRoute,
  type CaptureRow,
  type HttpRoute,
  installCapture,
  MAX_CAPTURE_SYMBOLS,
  releaseRequestSchema,
} from "./capture.ts";

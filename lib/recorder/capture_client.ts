// The recorder's side of capture mode: asks the gateway's `/api/v1/capture` to hold subscriptions
// for its symbols (and to release them at exit), authenticated with TICKPLEX_API_KEY.

import type { Mode } from "../types.ts";
import type { CaptureResult, CaptureRow } from "../capture/mod.ts";

/** Where and as whom to call the capture API. */
export interface CaptureClientOptions {
  /** Gateway base URL, e.g. `http://127.0.0.1:8765`. */
  gateway: string;
  apiKey: string;
  /** Capture owner name; default `recorder`. */
  owner?: string;
  /** Per-request timeout; default 10 s. */
  timeoutMs?: number;
}

/** The gateway answered with an error status. */
export class CaptureError extends Error {
  override name = "CaptureError";
  constructor(message: string, readonly status: number, readonly code: string | null) {
    super(message);
  }
}

/**
 * A small client of the capture API.
 *
 * @example
 * ```ts ignore
 * const client = new CaptureClient({ gateway: "http://127.0.0.1:8765", apiKey });
 * await client.capture([{ exchange: "NSE", symbol: "RELIANCE", mode: 2 }]);
 * await client.release();
 * ```
 */
export class CaptureClient {
  readonly gateway: string;
  readonly owner: string;
  #apiKey: string;
  #timeoutMs: number;

  constructor(options: CaptureClientOptions) {
    this.gateway = options.gateway.replace(/\/+$/, "");
    this.owner = options.owner ?? "recorder";
    this.#apiKey = options.apiKey;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
  }

  async #call(method: string, body?: unknown): Promise<Record<string, unknown>> {
    let res: Response;
    try {
      res = await fetch(`${this.gateway}/api/v1/capture`, {
        method,
        headers: { authorization: `Bearer ${this.#apiKey}`, "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (error) {
      throw new CaptureError(
        `capture: cannot reach ${this.gateway}: ${(error as Error).message}`,
        0,
        null,
      );
    }
    const text = await res.text();
    let json: Record<string, unknown>;
    try {
      json = JSON.parse(text);
    } catch {
      throw new CaptureError(`capture: ${res.status} ${text.slice(0, 200)}`, res.status, null);
    }
    if (!res.ok && !Array.isArray(json.results)) {
      throw new CaptureError(
        `capture: ${json.code ?? res.status}: ${json.message ?? text.slice(0, 200)}`,
        res.status,
        typeof json.code === "string" ? json.code : null,
      );
    }
    return json;
  }

  /** Holds the given subscriptions; resolves with the per-symbol results (errors included). */
  async capture(
    symbols: { exchange: string; symbol: string; mode: Mode }[],
    depth = 5,
  ): Promise<CaptureResult[]> {
    const r = await this.#call("POST", { symbols, depth, owner: this.owner });
    return r.results as CaptureResult[];
  }

  /** Releases this owner's captures (all, or the given symbols). */
  async release(symbols?: { exchange: string; symbol: string }[]): Promise<CaptureResult[]> {
    const r = await this.#call(
      "DELETE",
      symbols === undefined ? { owner: this.owner } : {
        owner: this.owner,
        symbols,
      },
    );
    return r.results as CaptureResult[];
  }

  /** Every capture on the gateway (all owners). */
  async list(): Promise<CaptureRow[]> {
    const r = await this.#call("GET");
    return r.captures as CaptureRow[];
  }
}

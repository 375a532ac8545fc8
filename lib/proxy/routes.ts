// The one HTTP route table of :8765: every module that answers HTTP (proxy, market data,
// dashboard, capture, broker token) registers its paths here, and the listener looks them up.

/** HTTP methods a route may accept. */
export type HttpMethod = "GET" | "HEAD" | "POST" | "PUT" | "DELETE" | "PATCH";

/** What a handler learns about the connection besides the request. */
export interface RequestInfo {
  /** The client's IP address. */
  address: string;
}

/** Answers one request on a route's path. */
export type RouteHandler = (req: Request, info: RequestInfo) => Response | Promise<Response>;

/** One path with the methods it accepts. */
export interface Route {
  /** Exact path, e.g. `/api/v1/health`. */
  path: string;
  methods: readonly HttpMethod[];
  handler: RouteHandler;
}

/**
 * The route table: exact paths, each registered once. Unknown paths get 404, known paths with
 * another method 405 with `Allow`, both as JSON error bodies with a catalogue code.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const routes = new HttpRoutes();
 * routes.add({ path: "/ping", methods: ["GET"], handler: () => new Response("pong") });
 * const ok = await routes.handle(new Request("http://x/ping"), { address: "127.0.0.1" });
 * assert.equal(await ok.text(), "pong");
 * const post = await routes.handle(new Request("http://x/ping", { method: "POST" }), { address: "" });
 * assert.deepEqual([post.status, post.headers.get("allow")], [405, "GET"]);
 * assert.equal((await routes.handle(new Request("http://x/nope"), { address: "" })).status, 404);
 * ```
 */
export class HttpRoutes {
  #routes = new Map<string, Route>();

  /** Registers a route. Throws when the path is taken: two owners of one path is a bug. */
  add(route: Route): void {
    if (this.#routes.has(route.path)) {
      throw new Error(`HTTP route ${route.path} is already registered`);
    }
    this.#routes.set(route.path, route);
  }

  /**
   * Registers one handler for several paths, for modules whose handler answers a known set of
   * paths (and returns null for any other, which the table never asks it about).
   */
  addAll(
    paths: readonly string[],
    methods: readonly HttpMethod[],
    handler: (req: Request, info: RequestInfo) => Response | null | Promise<Response | null>,
  ): void {
    for (const path of paths) {
      this.add({
        path,
        methods,
        handler: async (req, info) =>
          (await handler(req, info)) ?? jsonError(404, "NOT_FOUND", `No route for ${path}`),
      });
    }
  }

  /** Registered paths, sorted. */
  paths(): string[] {
    return [...this.#routes.keys()].sort();
  }

  /** Answers `req` from the table (404 / 405 when no route accepts it). */
  async handle(req: Request, info: RequestInfo): Promise<Response> {
    const path = new URL(req.url).pathname;
    const route = this.#routes.get(path);
    if (!route) {
      return jsonError(404, "NOT_FOUND", `No route for ${path}`);
    }
    if (!route.methods.includes(req.method as HttpMethod)) {
      const r = jsonError(405, "INVALID_ACTION", `${req.method} is not allowed on ${path}`);
      r.headers.set("allow", route.methods.join(", "));
      return r;
    }
    return await route.handler(req, info);
  }
}

function jsonError(status: number, code: string, message: string): Response {
  return new Response(JSON.stringify({ status: "error", code, message }), {
    status,
    headers: { "content-type": "application/json", "cache-control": "no-store" },
  });
}

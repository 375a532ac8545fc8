// Errors a broker adapter raises that the kit treats differently from ordinary failures.

/**
 * The broker rejected the credentials (HTTP 401/403, an expired-token message, a failed login).
 * The session reports `auth_failed` and waits for a fresh token instead of retrying hard.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(new AuthError("HTTP 403") instanceof Error, true);
 * ```
 */
export class AuthError extends Error {
  override name = "AuthError";
}

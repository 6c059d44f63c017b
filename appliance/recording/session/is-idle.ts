/**
 * A session is idle after idleTimeoutMs without activity, unless a request is still in flight;
 * a request stuck for four times the timeout (its record never came) no longer holds it open.
 */
export function isIdle(s: { readonly now: number; readonly lastActivity: number; readonly inFlight: number; readonly idleTimeoutMs: number }): boolean {
  const quiet = s.now - s.lastActivity;
  return quiet >= s.idleTimeoutMs && (s.inFlight === 0 || quiet >= 4 * s.idleTimeoutMs);
}

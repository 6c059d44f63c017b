// Stage 7, forward: the request goes to the upstream over TLS on the session's own pool, and
// the response head and first recording.maxBodyBytes come back (proxy/forward.ts).
import type http from 'node:http';
import { forward, ForwardError } from '../../proxy/forward.js';
import { headerValue } from '../../lib/headers.js';
import { proceed, type Forwarded, type Injected, type Verdict } from '../exchange.js';
import { refusal } from '../refusal.js';

export interface ForwardDeps {
  readonly agentFor: (sessionId: string) => http.Agent;
  readonly maxBodyBytes: number;
  readonly upstreamTimeoutMs: number;
  readonly now: () => number;
}

/** Refusal codes (decision "error"): UPSTREAM_UNREACHABLE (a timeout too), UPSTREAM_TLS, BAD_REQUEST (the body broke its framing). */
export async function forwardUpstream(deps: ForwardDeps, x: Injected): Promise<Verdict<Forwarded>> {
  try {
    const outcome = await forward({
      destination: x.target.destination,
      tls: true,
      method: x.method,
      path: x.stripped.path,
      headers: x.headers,
      body: x.body,
      framing: x.canon.framing,
      agent: deps.agentFor(x.session.id),
      maxBodyBytes: deps.maxBodyBytes,
      timeoutMs: deps.upstreamTimeoutMs,
      now: deps.now,
    });
    return proceed({ ...x, outcome });
  } catch (err) {
    const fe = err instanceof ForwardError ? err : new ForwardError('UPSTREAM_UNREACHABLE');
    return refusal(fe, {
      decision: 'error',
      error: fe.message,
      // Sent (in part at least) when a request body capture exists: the upstream may have acted on it.
      sent: { forwarded: fe.requestBody !== undefined, requestBody: fe.requestBody?.body(declaredLength(x.client.req.rawHeaders)) ?? null, timings: fe.timings },
    });
  }
}

/** The client's Content-Length, to record a body's full size when only its start was read. */
export function declaredLength(raw: readonly string[]): number | undefined {
  const v = headerValue(raw, 'content-length');
  const n = v === undefined ? NaN : Number(v);
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

// Stage 7, forward: the request goes upstream (over TLS, on the session's own pool: the proxy's
// UpstreamPort, proxy/forward.ts) and the response head and first recording.maxBodyBytes come back.
import { headerValue } from '../lib/headers.js';
import { advance, proceed, type Forwarded, type Injected, type Verdict } from './exchange.js';
import { refusal } from './refusal.js';

/** Refusal codes (decision "error"): UPSTREAM_UNREACHABLE (a timeout too), UPSTREAM_TLS, BAD_REQUEST (the body broke its framing). */
export async function forwardUpstream(x: Injected): Promise<Verdict<Forwarded>> {
  const r = await x.target.upstream.send({
    method: x.method,
    path: x.stripped.path,
    headers: x.headers,
    body: x.body,
    framing: x.canon.framing,
    session: x.session.id,
  });
  if (r.ok) return proceed(advance(x, { outcome: r.response }));
  return refusal(r.error, {
    decision: 'error',
    error: r.error.message,
    // Sent (in part at least) when a request body capture exists: the upstream may have acted on it.
    sent: { forwarded: r.requestBody !== undefined, requestBody: r.requestBody?.body(declaredLength(x.client.req.rawHeaders)) ?? null, timings: r.timings },
  });
}

/** The client's Content-Length, to record a body's full size when only its start was read. */
export function declaredLength(raw: readonly string[]): number | undefined {
  const v = headerValue(raw, 'content-length');
  const n = v === undefined ? NaN : Number(v);
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

// The framing of a forwarded request is Airlock's, never the client's: Node's ClientRequest sends
// a GET/HEAD/DELETE/OPTIONS body without framing unless told (the desync of issue #11, finding 1),
// and a client's Connection header may have nominated its own framing header away.
import type { BodyFraming } from './canonical-request.js';

const FRAMING = new Set(['content-length', 'transfer-encoding']);

/** `headers` without any framing header, plus exactly one for `framing` (none: no body, no header). */
export function frameHeaders(headers: readonly string[], framing: BodyFraming): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < headers.length; i += 2) {
    if (!FRAMING.has(headers[i]!.toLowerCase())) out.push(headers[i]!, headers[i + 1]!);
  }
  if (framing.kind === 'length') out.push('Content-Length', String(framing.length));
  else if (framing.kind === 'chunked') out.push('Transfer-Encoding', 'chunked');
  return out;
}

/** The framing sent upstream: the client's, except that HEAD has no content (RFC 9110 9.3.2). */
export function upstreamFraming(method: string, framing: BodyFraming): BodyFraming {
  return method.toUpperCase() === 'HEAD' ? { kind: 'none' } : framing;
}

import { captureBody, type BodyLimits } from './capture-body.js';
import { requestHeadersSize, responseHeadersSize } from './headers-size.js';
import type { JournalExchangeLine } from './journal-types.js';
import { collectRequestKeyShapes, redactHeaders, redactText, redactUrl, withKeyShapes, type PreparedSecrets } from '../../secrets/redact.js';
import type { Exchange } from '../../lib/exchange-types.js';

/** HAR and the size computation want "HTTP/1.1"; accept "1.1" from callers too. */
function normalizeHttpVersion(v: string): string {
  return /^HTTP\//i.test(v) ? v : `HTTP/${v || '1.1'}`;
}

/**
 * The journal line for one exchange: sizes from the raw form, every string redacted. Key-shaped
 * values of the agent's request are found first (URL, headers, then the body as decoded), and
 * then redacted in every string of the exchange, response included.
 */
export function toJournalExchange(ex: Exchange, given: PreparedSecrets, limits: BodyLimits): JournalExchangeLine {
  const rq = ex.request;
  const rqVersion = normalizeHttpVersion(rq.httpVersion);
  const rs = ex.response;
  const rsVersion = rs ? normalizeHttpVersion(rs.httpVersion) : '';
  const shapes = new Set<string>();
  collectRequestKeyShapes(rq.url, rq.headers, shapes);
  const requestBody = rq.body ? captureBody(rq.body, rq.headers, withKeyShapes(given, shapes), limits, shapes) : null;
  const secrets = withKeyShapes(given, shapes);
  return {
    type: 'exchange',
    id: ex.id,
    startedDateTime: ex.startedDateTime,
    request: {
      method: rq.method,
      url: redactUrl(rq.url, secrets),
      httpVersion: rqVersion,
      headers: redactHeaders(rq.headers, secrets),
      headersSize: requestHeadersSize(rq.method, rq.url, rqVersion, rq.headers),
      body: requestBody,
    },
    response: rs
      ? {
          status: rs.status,
          statusText: redactText(rs.statusText, secrets),
          httpVersion: rsVersion,
          headers: redactHeaders(rs.headers, secrets),
          headersSize: responseHeadersSize(rsVersion, rs.status, rs.statusText, rs.headers),
          body: captureBody(rs.body, rs.headers, secrets, limits),
        }
      : null,
    ...(ex.error !== undefined ? { error: redactText(ex.error, secrets) } : {}),
    timings: ex.timings,
    ...(ex.serverIPAddress !== undefined ? { serverIPAddress: ex.serverIPAddress } : {}),
    ...(ex.connection !== undefined ? { connection: ex.connection } : {}),
    airlock: ex.airlock,
  };
}

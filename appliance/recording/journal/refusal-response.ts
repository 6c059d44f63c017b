// What a client that Airlock refused was answered, in the recorder's shape: the same status,
// headers and body respondError() writes (errors.ts toErrorResponse is the one source of both),
// so the HAR, `sessions grep --status`, `show`, replay, suggest and DevTools see what the client saw.
import { STATUS_CODES } from 'node:http';
import { toErrorResponse } from '../../errors.js';
import type { Exchange } from '../../lib/exchange-types.js';

export type RecordedResponse = NonNullable<Exchange['response']>;

export function refusalResponse(err: unknown, httpVersion = 'HTTP/1.1'): RecordedResponse {
  const r = toErrorResponse(err);
  const bytes = Buffer.from(r.body, 'utf8');
  return {
    status: r.status,
    statusText: STATUS_CODES[r.status] ?? '',
    httpVersion,
    headers: Object.entries(r.headers),
    body: { size: bytes.length, bytes, truncated: false },
  };
}

// What is journalled for an exchange whose full record could not be written (a full disk after
// its begin line): a short exchange line, no bodies, that says what happened. A full disk has
// room for it long before it has room for a large response, and without it the HAR would only
// know the begin line and say "Airlock stopped before the exchange completed", which is false.
import { AirlockError } from '../../errors.js';
import { refusalResponse } from './refusal-response.js';
import type { Exchange } from '../../lib/exchange-types.js';

export const RESPONSE_NOT_RECORDED = 'forwarded, response not recorded';

/** The short stand-in for `ex`; `why` is the write error's code (ENOSPC), never a secret. */
export function unrecordedExchange(ex: Exchange, why: string): Exchange {
  const rs = ex.response;
  if (rs === null) {
    // Nothing came back to withhold (a refusal, an upstream failure): keep its own error.
    return {
      ...ex,
      request: { ...ex.request, body: null },
      error: `${ex.error ?? 'no response'}; the full record could not be written (${why})`,
    };
  }
  // The client is answered 502 RECORDING_INCOMPLETE: that small answer is what is recorded.
  return {
    ...ex,
    request: { ...ex.request, body: null },
    response: refusalResponse(new AirlockError('RECORDING_INCOMPLETE'), rs.httpVersion),
    error: `${RESPONSE_NOT_RECORDED}: the upstream answered ${rs.status}, but the exchange could not be journalled (${why}), so the response was withheld from the client`,
    airlock: { ...ex.airlock, decision: 'error', code: 'RECORDING_INCOMPLETE', errorCode: 'RECORDING_INCOMPLETE', forwarded: true },
  };
}

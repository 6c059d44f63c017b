// Stage 9, record-end: the forwarded exchange, masked, is journalled before a byte of the
// response reaches the client. The entry is built here (pure: forwardedEntry).
import type { Exchange } from '../lib/exchange-types.js';
import type { SessionsPort } from './ports.js';
import { toPairs } from '../lib/headers.js';
import { proceed, type Masked, type Verdict } from './exchange.js';
import { asAirlockError, refusal, type Refusal } from './refusal.js';
import { declaredLength } from './7-forward-upstream.js';

/**
 * Refusal code: RECORDING_INCOMPLETE (the request was forwarded; the store already journalled what it could).
 * A value when the line is in the file already (the store wrote it now), else a promise.
 */
export function recordEnd(sessions: SessionsPort, x: Masked): Verdict<Masked> | Promise<Verdict<Masked>> {
  try {
    const written = sessions.record(x.session.id, forwardedEntry(x), x.secrets);
    return written === undefined
      ? proceed(x)
      : written.then(
          () => proceed(x),
          (err: unknown) => failed(x, err),
        );
  } catch (err) {
    return failed(x, err);
  }
}

function failed(x: Masked, err: unknown): Refusal {
  x.outcome.rest?.destroy();
  // Not recorded again: the store's own stand-in (recording/unrecorded-exchange.ts) says what happened.
  return refusal(asAirlockError(err, 'RECORDING_INCOMPLETE'), {
    decision: x.decision,
    record: false,
    sent: { forwarded: true, requestBody: null, timings: x.outcome.timings },
  });
}

export function forwardedEntry(x: Masked): Exchange {
  const { outcome, shown } = x;
  return {
    id: x.id,
    startedDateTime: x.startedDateTime,
    request: {
      method: x.method,
      url: x.url,
      httpVersion: x.httpVersion,
      headers: toPairs(x.headers),
      body: outcome.requestBody.body(declaredLength(x.client.req.rawHeaders)),
    },
    response: {
      status: outcome.status,
      statusText: shown.statusText,
      httpVersion: outcome.httpVersion,
      headers: toPairs(shown.rawHeaders),
      body: shown.body,
    },
    timings: outcome.timings,
    serverIPAddress: outcome.serverIPAddress,
    connection: String(outcome.serverPort),
    airlock: {
      decision: x.decision,
      ...(x.rule ? { rule: { ...x.rule } } : {}),
      ...(x.approval ? { approval: x.approval } : {}),
      grant: x.identity.grant,
      credential: x.identity.credential,
      session: x.session.id,
      identity: x.attribution,
      stripped: x.stripped.stripped,
      injected: x.injected,
      forwarded: true,
      ...(shown.fired.length > 0 ? { masked: shown.fired } : {}),
    },
  };
}

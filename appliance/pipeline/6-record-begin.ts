// Stage 6, record-begin: the exchange's begin line is journalled before a byte goes upstream.
// Fail closed: an exchange that cannot be journalled is not sent.
import type { SessionsPort } from './ports.js';
import { proceed, type Injected, type Verdict } from './exchange.js';
import { asAirlockError, refusal, type Refusal } from './refusal.js';

/**
 * Refusal codes: RECORDING_FAILED (and whatever the store throws), never recorded: the journal is what failed.
 * A value when the line is in the file already (the store wrote it now), else a promise.
 */
export function recordBegin(sessions: SessionsPort, x: Injected): Verdict<Injected> | Promise<Verdict<Injected>> {
  try {
    const written = sessions.begin(x.session.id, { id: x.id, startedDateTime: x.startedDateTime, method: x.method, url: x.url }, x.secrets);
    return written === undefined ? proceed(x) : written.then(() => proceed(x), failed);
  } catch (err) {
    return failed(err);
  }
}

function failed(err: unknown): Refusal {
  return refusal(asAirlockError(err, 'RECORDING_FAILED'), { record: false });
}

// Stage 6, record-begin: the exchange's begin line is journalled before a byte goes upstream.
// Fail closed: an exchange that cannot be journalled is not sent.
import type { SessionsPort } from './ports.js';
import { proceed, type Injected, type Verdict } from './exchange.js';
import { asAirlockError, refusal } from './refusal.js';

/** Refusal codes: RECORDING_FAILED (and whatever the store throws), never recorded: the journal is what failed. */
export async function recordBegin(sessions: SessionsPort, x: Injected): Promise<Verdict<Injected>> {
  try {
    await sessions.begin(x.session.id, { id: x.id, startedDateTime: x.startedDateTime, method: x.method, url: x.url }, x.secrets);
    return proceed(x);
  } catch (err) {
    return refusal(asAirlockError(err, 'RECORDING_FAILED'), { record: false });
  }
}

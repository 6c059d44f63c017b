// The one place a Refusal is carried out: journalled with the answer the client gets, then
// answered (or, for an aborted hold, the connection closed). The stages only decide.
import type { SessionsPort } from './ports.js';
import type { AnyExchange, Identified } from './exchange.js';
import type { Refusal } from './refusal.js';
import { refusalEntry } from './refusal-entry.js';

/** Returns the status the client was answered (0: none). Never throws. */
export async function settleRefusal(sessions: SessionsPort, x: AnyExchange, r: Refusal): Promise<number> {
  const req = x.client.req;
  if (!r.sent) {
    // Nobody reads a refused request's body: drop it so the connection can be reused (the socket timeout caps it).
    req.resume();
    req.on('error', () => undefined);
  }
  if (r.record && hasSession(x)) {
    const entry = refusalEntry(x, r);
    try {
      await sessions.record(x.session.id, entry, x.secrets);
    } catch (err) {
      x.log.error({ err, code: r.code }, 'could not record a refused exchange');
    }
  }
  if (!r.answer) {
    x.client.drop();
    return 0;
  }
  return x.client.answer(r.answer);
}

function hasSession(x: AnyExchange): x is AnyExchange & Identified {
  return x.identity !== undefined && x.session !== undefined && x.attribution !== undefined;
}

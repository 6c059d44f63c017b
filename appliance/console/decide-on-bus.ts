// A decision on the bus by a verified approver (console, Slack or CLI), its refusals as errors.
import { AirlockError } from '../errors.js';
import type { RedisBus } from '../approvals/redis-bus.js';
import { cutText } from '../approvals/cut-text.js';

export async function decideOnBus(
  bus: RedisBus,
  id: string,
  kind: 'approved' | 'denied',
  by: string,
  channel: string,
  words: string,
  now: () => number,
): Promise<{ id: string; decision: string; by: string; method: string; url: string }> {
  const note = cutText(words.trim(), 500);
  if (kind === 'denied' && !note) throw new AirlockError('BAD_REQUEST', 'a denial needs a reason');
  let r;
  try {
    r = await bus.decide(id, { kind, by, at: new Date(now()).toISOString(), channel, ...(note ? { note } : {}) });
  } catch {
    throw new AirlockError('BUS_UNAVAILABLE');
  }
  if (!r.ok) {
    if (r.why === 'expired' || r.decision?.kind === 'timeout')
      throw new AirlockError('HOLD_EXPIRED', `hold ${id} timed out${r.decision ? ` at ${r.decision.at}` : ''}`);
    if (r.why === 'decided') throw new AirlockError('HOLD_DECIDED', `${r.decision?.kind ?? '?'} by ${r.decision?.by ?? '?'} (${r.decision?.channel ?? '?'})`);
    throw new AirlockError('HOLD_NOT_FOUND', `no hold ${id} on the bus`);
  }
  return { id, decision: r.decision.kind, by, method: r.hold.method, url: r.hold.url };
}

// Stage 4 (continued), approval: a request the policy holds is read whole, its begin line
// journalled (note "held", so a crash leaves "held-then-aborted" in the HAR), and it waits for a
// person, the timeout, or the client walking away. Approved, it is replayed upstream from memory.
import { Readable } from 'node:stream';
import { AirlockError } from '../errors.js';
import type { Guard } from '../policy/guard.js';
import type { RuleRef } from '../policy/decide.js';
import { readBody } from '../policy/read-body.js';
import { prepareSecrets, redactRequestText } from '../secrets/redact.js';
import { advance, proceed, type Guarded, type Stripped, type Verdict } from './exchange.js';
import { asAirlockError, heldAborted, refusal } from './refusal.js';
import type { PolicyDeps } from './4-check-policy.js';

const PREVIEW_CHARS = 500;

/** Refusal codes: POLICY_DENIED (body unreadable or too large), RECORDING_FAILED, APPROVAL_DENIED, APPROVAL_TIMEOUT, HELD_ABORTED (no answer). */
export async function holdForApproval(
  deps: PolicyDeps,
  x: Stripped,
  guard: Guard,
  rule: RuleRef,
  buffered: Buffer | null,
  partial: Buffer | null,
): Promise<Verdict<Guarded>> {
  const req = x.client.req;
  const denied = { decision: 'denied', rule } as const;
  let body = buffered;
  if (body === null && partial !== null)
    return refusal(new AirlockError('POLICY_DENIED', 'held for approval, but the request body is larger than recording.maxBodyBytes'), denied);
  if (body === null) {
    // Held requests are read whole first: the client's request is then complete, and an
    // approved one is replayed upstream from memory.
    const r = await readBody(req, deps.maxBodyBytes);
    if (!r.ok) return refusal(new AirlockError('POLICY_DENIED', `held for approval, but ${r.reason}`), denied);
    body = r.bytes;
  }
  try {
    await deps.sessions.begin(x.session.id, { id: x.id, startedDateTime: x.startedDateTime, method: x.method, url: x.url, note: 'held' }, x.secrets);
  } catch (err) {
    // Recording does not work: nothing is held, nothing forwarded (and there is nowhere to record it).
    return refusal(asAirlockError(err, 'RECORDING_FAILED'), { record: false });
  }
  const secrets = prepareSecrets(x.secrets);
  const { id, outcome } = guard.approvals.hold({
    session: x.session.id,
    sub: x.identity.sub,
    grant: x.identity.grant,
    method: x.method,
    url: redactRequestText(x.url, secrets),
    bodyPreview: redactRequestText(
      body
        .subarray(0, PREVIEW_CHARS * 4)
        .toString('utf8')
        .slice(0, PREVIEW_CHARS),
      secrets,
    ),
    rule,
    claims: x.attribution,
    host: x.target.host,
  });
  // A hold can last minutes with no bytes moving: every deadline of the connection waits for the
  // decision, which approvals.timeout bounds.
  const restore = x.client.suspendTimers();
  const stopWatching = x.client.onClose(() => guard.approvals.abort(id, 'the client closed the connection'));
  const o = await outcome;
  stopWatching();
  restore();
  switch (o.kind) {
    case 'approved':
      return proceed(advance(x, { body: Readable.from([body]), decision: 'approved' as const, rule: { ...rule }, approval: o.approval }));
    case 'denied':
      return refusal(new AirlockError('APPROVAL_DENIED', o.reason ? `${o.approval.by}: ${o.reason}` : `by ${o.approval.by}`), {
        decision: 'approval-denied',
        rule,
        approval: o.approval,
      });
    case 'timeout':
      return refusal(new AirlockError('APPROVAL_TIMEOUT', `hold ${id}`), { decision: 'approval-timeout', rule });
    default:
      return heldAborted(o.why, rule);
  }
}

// Stage 4, policy and approval: the grant's rate limit, then its policy's decision (reading the
// body only when a `when:` condition needs it). Allowed, or allowed under `mode: report`, the
// request goes on with the body to send; denied, it is refused; `approve` hands it to
// hold-for-approval.ts.
import { Readable } from 'node:stream';
import { AirlockError } from '../errors.js';
import { redactForLog } from '../log.js';
import { decide, needsBody, type Decision as PolicyDecision, type RuleRef } from '../policy/decide.js';
import { bodyFacts, readBody } from '../policy/read-body.js';
import { headerValue } from '../lib/headers.js';
import type { SessionsPort } from './ports.js';
import type { Decision } from '../lib/decision.js';
import { proceed, type Guarded, type Stripped, type Verdict } from './exchange.js';
import { refusal, type Refusal } from './refusal.js';
import { holdForApproval } from './4-hold-for-approval.js';

export interface PolicyDeps {
  readonly sessions: SessionsPort;
  readonly maxBodyBytes: number;
}

/** What the policy's decision means for the request; pure. */
export type PolicyOutcome =
  { readonly kind: 'go'; readonly decision: Decision; readonly rule: RuleRef } | { readonly kind: 'hold'; readonly rule: RuleRef } | Refusal;

/**
 * `unreadable`: why the body a condition needed could not be read (null: read, or not needed).
 * Refusal code: POLICY_DENIED.
 */
export function policyOutcome(d: PolicyDecision, unreadable: string | null): PolicyOutcome {
  if (unreadable !== null && d.action !== 'allow') {
    // The condition could not be checked and the rule would restrict: refuse, whatever the mode.
    return refusal(new AirlockError('POLICY_DENIED', d.rule.reason ?? unreadable), { decision: 'denied', rule: d.rule });
  }
  if (d.action === 'allow') return { kind: 'go', decision: 'forwarded', rule: d.rule };
  if (!d.enforced) return { kind: 'go', decision: d.action === 'deny' ? 'report-deny' : 'report-approve', rule: d.rule };
  if (d.action === 'deny') {
    return refusal(new AirlockError('POLICY_DENIED', d.rule.reason ?? `rule ${String(d.rule.rule)} of policy ${d.rule.policy}`), {
      decision: 'denied',
      rule: d.rule,
    });
  }
  return { kind: 'hold', rule: d.rule };
}

/** Refusal codes: RATE_LIMITED, POLICY_DENIED, and hold-for-approval.ts's. Without a guard, everything goes on. */
export async function checkPolicy(deps: PolicyDeps, x: Stripped): Promise<Verdict<Guarded>> {
  const req = x.client.req;
  const guard = x.guard;
  if (!guard) return proceed({ ...x, body: req, decision: 'forwarded' });
  const policy = guard.policyFor(x.identity.grant);
  if (policy.rateLimit) {
    const t = guard.limiter.take(x.session.id, policy.rateLimit);
    if (!t.ok) {
      const err = new AirlockError('RATE_LIMITED', `policy ${policy.name}: ${policy.rateLimit.perSecond}/s, burst ${policy.rateLimit.burst}`, {
        headers: { 'retry-after': String(t.retryAfterSeconds) },
      });
      return refusal(err, { rule: { policy: policy.name, rule: 'default', action: 'deny', reason: 'rateLimit' } });
    }
  }

  const facts = { method: x.method, host: x.target.host, path: x.stripped.path };
  let buffered: Buffer | null = null;
  let partial: Buffer | null = null;
  let outcome: PolicyOutcome;
  if (needsBody(facts, policy)) {
    const r = await readBody(req, deps.maxBodyBytes);
    if (r.ok) buffered = r.bytes;
    else partial = r.consumed;
    const body = r.ok
      ? bodyFacts(r.bytes, headerValue(req.rawHeaders, 'content-encoding'), deps.maxBodyBytes)
      : { state: 'unreadable' as const, reason: r.reason };
    outcome = policyOutcome(decide({ ...facts, body }, policy), r.ok ? null : r.reason);
  } else {
    outcome = policyOutcome(decide(facts, policy), null);
  }
  if (outcome.kind === 'refuse') return outcome;
  if (outcome.kind === 'hold') return holdForApproval(deps, x, guard, outcome.rule, buffered, partial);
  if (outcome.decision !== 'forwarded') {
    const would = outcome.decision === 'report-deny' ? 'deny' : 'hold';
    x.log.warn({ rule: outcome.rule, method: x.method, url: redactForLog(x.url, x.secrets) }, `policy would ${would} this request (report mode): forwarded`);
  }
  return proceed({ ...x, body: bodyStream(req, buffered, partial), decision: outcome.decision, rule: { ...outcome.rule } });
}

/** The body to send: what was read for a condition goes first, then the rest still in the socket. */
function bodyStream(req: Readable, buffered: Buffer | null, partial: Buffer | null): Readable {
  if (buffered) return Readable.from([buffered]);
  if (partial === null) return req;
  const head = partial;
  return Readable.from(
    (async function* () {
      yield head;
      yield* req as AsyncIterable<Buffer>;
    })(),
  );
}

// Stage 4, policy and approval: the grant's rate limit, then its policy's decision (reading the
// body only when a `when:` condition needs it). Allowed, or allowed under `mode: report`, the
// request goes on with the body to send; denied, it is refused; `approve` hands it to
// hold-for-approval.ts.
import { Readable } from 'node:stream';
import { AirlockError } from '../errors.js';
import { redactForLog } from '../log.js';
import { decide, needsBody, type Decision as PolicyDecision, type RuleRef } from '../policy/decide.js';
import { bodyFacts, readBody } from '../policy/read-body.js';
import type { CompiledPolicy } from '../policy/compile-policy.js';
import type { Guard } from '../policy/guard.js';
import { headerValue } from '../lib/headers.js';
import type { SessionsPort } from './ports.js';
import type { Decision } from '../lib/decision.js';
import { advance, proceed, type Guarded, type Stripped, type Verdict } from './exchange.js';
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

/**
 * Refusal codes: RATE_LIMITED, POLICY_DENIED, and hold-for-approval.ts's. Without a guard, everything goes on.
 * A promise only when the stage waits (a body a condition reads, an approval hold): the common
 * decision costs the run no microtask turn.
 */
export function checkPolicy(deps: PolicyDeps, x: Stripped): Verdict<Guarded> | Promise<Verdict<Guarded>> {
  const req = x.client.req;
  const guard = x.guard;
  if (!guard) return proceed(advance(x, { body: req, decision: FORWARDED }));
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
  if (!needsBody(facts, policy)) return settle(deps, x, guard, policyOutcome(decide(facts, policy), null), null, null);
  return readThenDecide(deps, x, guard, policy, facts);
}

async function readThenDecide(
  deps: PolicyDeps,
  x: Stripped,
  guard: Guard,
  policy: CompiledPolicy,
  facts: { method: string; host: string; path: string },
): Promise<Verdict<Guarded>> {
  const req = x.client.req;
  const r = await readBody(req, deps.maxBodyBytes);
  const body = r.ok
    ? bodyFacts(r.bytes, headerValue(req.rawHeaders, 'content-encoding'), deps.maxBodyBytes)
    : { state: 'unreadable' as const, reason: r.reason };
  const outcome = policyOutcome(decide({ ...facts, body }, policy), r.ok ? null : r.reason);
  return settle(deps, x, guard, outcome, r.ok ? r.bytes : null, r.ok ? null : r.consumed);
}

/** `buffered`: the body read whole for a condition; `partial`: what was read of one too large. */
function settle(
  deps: PolicyDeps,
  x: Stripped,
  guard: Guard,
  outcome: PolicyOutcome,
  buffered: Buffer | null,
  partial: Buffer | null,
): Verdict<Guarded> | Promise<Verdict<Guarded>> {
  if (outcome.kind === 'refuse') return outcome;
  if (outcome.kind === 'hold') return holdForApproval(deps, x, guard, outcome.rule, buffered, partial);
  if (outcome.decision !== 'forwarded') {
    const would = outcome.decision === 'report-deny' ? 'deny' : 'hold';
    x.log.warn({ rule: outcome.rule, method: x.method, url: redactForLog(x.url, x.secrets) }, `policy would ${would} this request (report mode): forwarded`);
  }
  return proceed(advance(x, { body: bodyStream(x.client.req, buffered, partial), decision: outcome.decision, rule: { ...outcome.rule } }));
}

const FORWARDED: Decision = 'forwarded';

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

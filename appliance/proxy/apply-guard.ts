// The guardrail stage of the pipeline, between identity/strip and vault/journal/forward: rate
// limit, policy decision (reading the body only when a `when:` needs it), approval holds.
// Either the request may go on (with the body to send and what to record), or it has been
// answered and recorded here.
import type http from 'node:http';
import { Readable } from 'node:stream';
import { AirlockError } from '../errors.js';
import { redactForLog, type Logger } from '../log.js';
import type { Identity } from '../identity/types.js';
import type { Approval } from '../approvals/approval-queue.js';
import type { Guard } from '../policy/guard.js';
import { decide, needsBody, type Decision, type RuleRef } from '../policy/decide.js';
import { bodyFacts, readBody } from '../policy/read-body.js';
import { prepareSecrets, redactRequestText } from '../secrets/redact.js';
import type { Exchange, Secret } from '../lib/exchange-types.js';
import { headerValue } from '../lib/headers.js';
import { suspendConnectionTimers } from './connection-timers.js';
import { attributionOf } from '../identity/attribution.js';

export interface GuardContext {
  readonly guard: Guard;
  readonly identity: Identity;
  readonly sessionId: string;
  readonly method: string;
  readonly host: string;
  /** After stripping, query included. */
  readonly path: string;
  readonly url: string;
  readonly req: http.IncomingMessage;
  readonly res: http.ServerResponse;
  readonly log: Logger;
  readonly maxBodyBytes: number;
  readonly secrets: readonly Secret[];
  /** The exchange to record for a refusal answered with `err` (null: the client got no answer); decision and rule are set here. */
  readonly refused: (err: AirlockError | null, code?: string) => Exchange;
  readonly record: (ex: Exchange) => Promise<void>;
  readonly begin: (note: string) => Promise<void>;
  readonly startedDateTime: string;
  readonly respond: (err: AirlockError) => number;
}

export type GuardVerdict =
  | { readonly go: false; readonly status: number; readonly code: string; readonly decision: string }
  | {
      readonly go: true;
      readonly body: Readable;
      readonly decision: string;
      readonly rule: RuleRef;
      readonly approval?: Approval;
    };

const PREVIEW_CHARS = 500;

export async function applyGuard(c: GuardContext): Promise<GuardVerdict> {
  const policy = c.guard.policyFor(c.identity.grant);
  if (policy.rateLimit) {
    const t = c.guard.limiter.take(c.sessionId, policy.rateLimit);
    if (!t.ok) {
      const err = new AirlockError('RATE_LIMITED', `policy ${policy.name}: ${policy.rateLimit.perSecond}/s, burst ${policy.rateLimit.burst}`, {
        headers: { 'retry-after': String(t.retryAfterSeconds) },
      });
      return refuse(c, err, 'refused', { policy: policy.name, rule: 'default', action: 'deny', reason: 'rateLimit' });
    }
  }

  const facts = { method: c.method, host: c.host, path: c.path };
  let buffered: Buffer | null = null;
  let partial: Buffer | null = null;
  let decision: Decision;
  if (needsBody(facts, policy)) {
    const r = await readBody(c.req, c.maxBodyBytes);
    if (r.ok) buffered = r.bytes;
    const body = r.ok ? bodyFacts(r.bytes, headerValue(c.req.rawHeaders, 'content-encoding'), c.maxBodyBytes) : { state: 'unreadable' as const, reason: r.reason };
    decision = decide({ ...facts, body }, policy);
    if (!r.ok && decision.action !== 'allow') {
      // The condition could not be checked and the rule would restrict: refuse, whatever the mode.
      return refuse(c, new AirlockError('POLICY_DENIED', decision.rule.reason ?? r.reason), 'denied', decision.rule);
    }
    if (!r.ok) partial = r.consumed;
  } else {
    decision = decide(facts, policy);
  }
  const bodyStream = (): Readable => {
    if (buffered) return Readable.from([buffered]);
    if (partial === null) return c.req;
    const head = partial;
    // What was read for the condition goes first, then the rest still in the socket.
    return Readable.from((async function* () {
      yield head;
      yield* c.req as AsyncIterable<Buffer>;
    })());
  };

  if (decision.action === 'allow') return { go: true, body: bodyStream(), decision: 'forwarded', rule: decision.rule };
  if (!decision.enforced) {
    c.log.warn({ rule: decision.rule, method: c.method, url: redactForLog(c.url, c.secrets) }, `policy would ${decision.action === 'deny' ? 'deny' : 'hold'} this request (report mode): forwarded`);
    return { go: true, body: bodyStream(), decision: decision.action === 'deny' ? 'report-deny' : 'report-approve', rule: decision.rule };
  }
  if (decision.action === 'deny') {
    return refuse(c, new AirlockError('POLICY_DENIED', decision.rule.reason ?? `rule ${String(decision.rule.rule)} of policy ${decision.rule.policy}`), 'denied', decision.rule);
  }
  return hold(c, decision.rule, buffered, partial);
}

async function hold(c: GuardContext, rule: RuleRef, buffered: Buffer | null, partial: Buffer | null): Promise<GuardVerdict> {
  let body = buffered;
  if (body === null && partial !== null) return refuse(c, new AirlockError('POLICY_DENIED', 'held for approval, but the request body is larger than recording.maxBodyBytes'), 'denied', rule);
  if (body === null) {
    // Held requests are read whole first: the client's request is then complete, and an
    // approved one is replayed upstream from memory.
    const r = await readBody(c.req, c.maxBodyBytes);
    if (!r.ok) return refuse(c, new AirlockError('POLICY_DENIED', `held for approval, but ${r.reason}`), 'denied', rule);
    body = r.bytes;
  }
  try {
    await c.begin('held');
  } catch (err) {
    // Recording does not work: nothing is held, nothing forwarded (and there is nowhere to record it).
    const status = c.respond(err instanceof AirlockError ? err : new AirlockError('RECORDING_FAILED'));
    return { go: false, status, code: err instanceof AirlockError ? err.code : 'RECORDING_FAILED', decision: 'refused' };
  }
  const secrets = prepareSecrets(c.secrets);
  const { id, outcome } = c.guard.approvals.hold({
    session: c.sessionId,
    sub: c.identity.sub,
    grant: c.identity.grant,
    method: c.method,
    url: redactRequestText(c.url, secrets),
    bodyPreview: redactRequestText(body.subarray(0, PREVIEW_CHARS * 4).toString('utf8').slice(0, PREVIEW_CHARS), secrets),
    rule,
    claims: attributionOf(c.identity),
    host: c.host,
  });
  // A hold can last minutes with no bytes moving: every deadline of the connection waits for the
  // decision, which approvals.timeout bounds.
  const restore = suspendConnectionTimers(c.req.socket);
  const onClose = (): void => c.guard.approvals.abort(id, 'the client closed the connection');
  c.res.once('close', onClose);
  const o = await outcome;
  c.res.off('close', onClose);
  restore();
  switch (o.kind) {
    case 'approved':
      return { go: true, body: Readable.from([body]), decision: 'approved', rule, approval: o.approval };
    case 'denied':
      return refuse(c, new AirlockError('APPROVAL_DENIED', o.reason ? `${o.approval.by}: ${o.reason}` : `by ${o.approval.by}`), 'approval-denied', rule, o.approval);
    case 'timeout':
      return refuse(c, new AirlockError('APPROVAL_TIMEOUT', `hold ${id}`), 'approval-timeout', rule);
    default: {
      const ex = c.refused(null, 'HELD_ABORTED');
      await c.record({ ...ex, error: `held-then-aborted: ${o.why}`, airlock: { ...ex.airlock, decision: 'aborted', rule: { ...rule } } }).catch((err: unknown) => {
        c.log.error({ err }, 'could not record an aborted hold');
      });
      c.res.destroy();
      return { go: false, status: 0, code: 'HELD_ABORTED', decision: 'aborted' };
    }
  }
}

async function refuse(c: GuardContext, err: AirlockError, decision: string, rule: RuleRef, approval?: Approval): Promise<GuardVerdict> {
  c.req.resume();
  c.req.on('error', () => undefined);
  const ex = c.refused(err);
  await c
    .record({ ...ex, airlock: { ...ex.airlock, decision, rule: { ...rule }, ...(approval ? { approval } : {}) } })
    .catch((e: unknown) => c.log.error({ err: e }, 'could not record a refused exchange'));
  const status = c.respond(err);
  return { go: false, status, code: err.code, decision };
}

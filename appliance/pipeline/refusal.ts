// A stage's "no": what the client is answered, how the exchange is recorded and logged. Made by
// the stages, carried out in one place (settle-refusal.ts).
import { AirlockError, type ErrorCode } from '../errors.js';
import type { Approval } from '../approvals/approval-queue.js';
import type { RuleRef } from '../policy/decide.js';
import type { CapturedBody, ExchangeTimings } from '../lib/exchange-types.js';
import type { Decision } from '../lib/decision.js';

/** What was sent upstream before the exchange failed (forward and later stages). */
export interface SentPart {
  /** true when (part of) the request reached the upstream, which may have acted on it. */
  readonly forwarded: boolean;
  /** The request body as sent, for the record (null: none captured). */
  readonly requestBody: CapturedBody | null;
  readonly timings: ExchangeTimings | undefined;
}

export interface Refusal {
  readonly kind: 'refuse';
  /** The stable code: X-Airlock-Error, `_airlock.code`, the log line's `code`. */
  readonly code: ErrorCode;
  /** The status the client is answered; 0 when it gets no answer. */
  readonly status: number;
  /** What the client is told besides the table's message (never a secret); the log's `reason`. */
  readonly detail: string | undefined;
  /** The error answered; null: the connection is closed with no answer (an aborted hold). */
  readonly answer: AirlockError | null;
  readonly decision: Decision;
  /**
   * false: nothing is journalled, because there is no session yet (identity failed) or the
   * journal itself is what failed (it says so in its own way: session-store.ts).
   */
  readonly record: boolean;
  readonly rule?: RuleRef;
  readonly approval?: Approval;
  /** The recorded `error` text, when the record says more than the answer. */
  readonly error?: string;
  /** Set once the request went to forward(): the body was read there, not left to drain. */
  readonly sent?: SentPart;
}

export interface RefusalOptions {
  readonly decision?: Decision;
  readonly record?: boolean;
  readonly rule?: RuleRef;
  readonly approval?: Approval;
  readonly error?: string;
  readonly sent?: SentPart;
}

/** A refusal answered with `err`: recorded and decided "refused" unless told otherwise. */
export function refusal(err: AirlockError, o: RefusalOptions = {}): Refusal {
  return {
    kind: 'refuse',
    code: err.code,
    status: err.status,
    detail: err.detail,
    answer: err,
    decision: o.decision ?? 'refused',
    record: o.record ?? true,
    ...(o.rule ? { rule: o.rule } : {}),
    ...(o.approval ? { approval: o.approval } : {}),
    ...(o.error !== undefined ? { error: o.error } : {}),
    ...(o.sent ? { sent: o.sent } : {}),
  };
}

/** `err` when it is one of Airlock's errors, else `fallback` (a surprise is never shown as itself). */
export function asAirlockError(err: unknown, fallback: ConstructorParameters<typeof AirlockError>[0]): AirlockError {
  return err instanceof AirlockError ? err : new AirlockError(fallback);
}

/** A held request whose client went away before a decision: recorded, never answered. */
export function heldAborted(why: string, rule: RuleRef): Refusal {
  return {
    kind: 'refuse',
    // In the table, never answered (its status is null): recorded only.
    code: 'HELD_ABORTED',
    status: 0,
    detail: undefined,
    answer: null,
    decision: 'aborted',
    record: true,
    rule,
    error: `held-then-aborted: ${why}`,
  };
}

// What Airlock decided about one exchange: the value recorded in the journal and HAR
// (`_airlock.decision`), the request log line and the metrics' `decision` label.

/** Every decision an intercepted exchange can be recorded with. */
export const DECISIONS = [
  /** Sent upstream: allowed by policy (or no policy). */
  'forwarded',
  /** Sent upstream after a person approved the hold. */
  'approved',
  /** Sent upstream under `mode: report`: the policy would have denied it. */
  'report-deny',
  /** Sent upstream under `mode: report`: the policy would have held it. */
  'report-approve',
  /** Answered by Airlock: identity, parsing, rate limit, vault, limits or the journal said no. */
  'refused',
  /** Answered by Airlock: a policy rule (or an unreadable body under a restricting rule) denied it. */
  'denied',
  /** Held, and a person denied it. */
  'approval-denied',
  /** Held, and nobody decided within approvals.timeout. */
  'approval-timeout',
  /** Held, and the client went away before a decision: it got no answer. */
  'aborted',
  /** Failed on the way: the upstream could not be reached, the response could not be masked or recorded. */
  'error',
] as const;

export type Decision = (typeof DECISIONS)[number];

/** Decisions logged for connections and requests Airlock does not intercept (never recorded). */
export type PassDecision = 'tunnel' | 'passthrough';

/** What a request log line's `decision` field can say. */
export type LogDecision = Decision | PassDecision;

const KNOWN: ReadonlySet<string> = new Set(DECISIONS);

/** For a decision read back from disk (a journal or HAR from any version). */
export function isDecision(v: unknown): v is Decision {
  return typeof v === 'string' && KNOWN.has(v);
}

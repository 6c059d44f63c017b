// The canonical request log line (`msg: "request"`): one per request Airlock answered or passed
// on, with the same fields wherever it is written (the pipeline, the router's early refusals,
// plain-HTTP passthrough). The session id is `session`, as in each HAR entry's `_airlock`.
import { redactForLog, type Logger } from '../log.js';
import type { Secret } from '../lib/exchange-types.js';
import type { LogDecision } from '../lib/decision.js';

export interface RequestLine<D extends LogDecision = LogDecision> {
  readonly session?: string;
  readonly sub?: string;
  readonly grant?: string;
  /** issuer, sub, auth form and the job's claims (identity/attribution.ts). */
  readonly identity?: Readonly<Record<string, string>>;
  readonly method: string;
  readonly host: string;
  /**
   * The path only (no query), credentials stripped and redacted. Only for requests that went
   * through the strip stage: another request's path is not Airlock's to log (nothing stripped
   * it, and it may carry some other service's secret).
   */
  readonly path?: string;
  /** What the client got; 0 when it got no answer. */
  readonly status: number;
  readonly bytesIn?: number;
  readonly bytesOut?: number;
  readonly durationMs?: number;
  readonly decision: D;
  readonly code?: string;
  /** The detail the client was told with the code (never a secret). */
  readonly reason?: string;
}

export interface RequestLineFacts<D extends LogDecision> {
  readonly method: string | undefined;
  readonly host: string;
  /** The request target after the strip stage (origin or absolute form); only its path is logged. */
  readonly stripped?: string | undefined;
  readonly decision: D;
  readonly status: number;
  readonly code?: string | undefined;
  readonly reason?: string | undefined;
  readonly who?:
    { readonly session: string | undefined; readonly sub: string; readonly grant: string; readonly identity: Readonly<Record<string, string>> } | undefined;
  readonly bytesIn?: number | undefined;
  readonly bytesOut?: number | undefined;
  readonly durationMs?: number | undefined;
  /** Values to redact from the path besides the ones redactForLog always finds. */
  readonly secrets?: readonly Secret[];
}

const SCHEME_AUTHORITY = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*/;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export function requestLine<D extends LogDecision>(f: RequestLineFacts<D>): RequestLine<D> {
  // Built by assignment in the line's key order, not by conditional spreads (a temporary object
  // and a property copy per optional field, once per request). The cast: the required fields are
  // all assigned below, before the line is returned.
  const who = f.who;
  const line = (
    who === undefined
      ? {}
      : who.session !== undefined
        ? { session: who.session, sub: who.sub, grant: who.grant, identity: who.identity }
        : { sub: who.sub, grant: who.grant, identity: who.identity }
  ) as Mutable<RequestLine<D>>;
  line.method = f.method ?? 'GET';
  line.host = f.host;
  if (f.stripped !== undefined) line.path = loggablePath(f.stripped, f.secrets);
  line.status = f.status;
  if (f.bytesIn !== undefined) line.bytesIn = f.bytesIn;
  if (f.bytesOut !== undefined) line.bytesOut = f.bytesOut;
  if (f.durationMs !== undefined) line.durationMs = f.durationMs;
  line.decision = f.decision;
  if (f.code !== undefined) line.code = f.code;
  if (f.reason !== undefined) line.reason = f.reason;
  return line;
}

/** The path is the agent's: a token or key in it is redacted with everything known by now. */
function loggablePath(target: string, secrets: readonly Secret[] | undefined): string {
  // The origin form ("/path?query", what the strip stage gives for nearly every request) has no
  // scheme and authority to take off: skip the regex.
  const path = target.charCodeAt(0) === 0x2f ? target : target.replace(SCHEME_AUTHORITY, '');
  const q = path.indexOf('?');
  return redactForLog((q < 0 ? path : path.slice(0, q)) || '/', secrets);
}

export function logRequest(log: Logger, line: RequestLine): void {
  log.info(line, 'request');
}

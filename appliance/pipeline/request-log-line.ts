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

export function requestLine<D extends LogDecision>(f: RequestLineFacts<D>): RequestLine<D> {
  return {
    ...(f.who?.session !== undefined ? { session: f.who.session } : {}),
    ...(f.who ? { sub: f.who.sub, grant: f.who.grant, identity: f.who.identity } : {}),
    method: f.method ?? 'GET',
    host: f.host,
    ...(f.stripped !== undefined ? { path: loggablePath(f.stripped, f.secrets) } : {}),
    status: f.status,
    ...(f.bytesIn !== undefined ? { bytesIn: f.bytesIn } : {}),
    ...(f.bytesOut !== undefined ? { bytesOut: f.bytesOut } : {}),
    ...(f.durationMs !== undefined ? { durationMs: f.durationMs } : {}),
    decision: f.decision,
    ...(f.code !== undefined ? { code: f.code } : {}),
    ...(f.reason !== undefined ? { reason: f.reason } : {}),
  };
}

/** The path is the agent's: a token or key in it is redacted with everything known by now. */
function loggablePath(target: string, secrets: readonly Secret[] | undefined): string {
  const path = target.replace(SCHEME_AUTHORITY, '').split('?')[0] || '/';
  return redactForLog(path, secrets);
}

export function logRequest(log: Logger, line: RequestLine): void {
  log.info(line, 'request');
}

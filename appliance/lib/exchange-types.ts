// What the proxy hands to the recorder, and what one journal line holds.
// The recorder redacts every secret when a line is written: nothing unredacted reaches disk.
import type { Decision } from './decision.js';

export type HeaderPair = readonly [name: string, value: string];

export interface CapturedBody {
  /** Bytes seen in total, which may be more than `bytes` holds. */
  readonly size: number;
  /** The first recording.maxBodyBytes bytes, as seen on the wire (still content-encoded). */
  readonly bytes: Buffer;
  readonly truncated: boolean;
}

export interface ExchangeTimings {
  /** ms; -1 where a phase did not happen (a reused connection has no dns/connect/ssl). */
  readonly blocked: number;
  readonly dns: number;
  readonly connect: number;
  readonly ssl: number;
  readonly send: number;
  readonly wait: number;
  readonly receive: number;
}

export interface ExchangeAirlock {
  /** What Airlock decided (lib/decision.ts lists every value). */
  readonly decision: Decision;
  /** The stable error code when Airlock refused or failed the exchange (older name of `code`, kept for readers of older HARs). */
  readonly errorCode?: string;
  /** The stable error code when Airlock refused or failed the exchange: what the client saw in X-Airlock-Error. */
  readonly code?: string;
  /**
   * true when the request was sent to the upstream (Datadog); false when Airlock answered it
   * itself. Only a forwarded exchange with a response and no `code` holds Datadog's answer.
   */
  readonly forwarded?: boolean;
  readonly grant?: string;
  readonly credential?: string;
  /** What was removed from the agent's request, e.g. "header:dd-api-key", "query:api_key", "path:/v1/input key". */
  readonly stripped: readonly string[];
  /** What was added, e.g. "header:dd-api-key". */
  readonly injected: readonly string[];
  /** The recording session this exchange belongs to. */
  readonly session?: string;
  /** Who: issuer, sub, auth form and the job's identifying claims (identity/attribution.ts). */
  readonly identity?: Readonly<Record<string, string>>;
  /** The policy rule that decided (policy/decide.ts RuleRef). */
  readonly rule?: Readonly<Record<string, unknown>>;
  /** Who approved or denied a held request, when, and through which channel (console, slack, cli, socket). */
  readonly approval?: { readonly by: string; readonly at: string; readonly note?: string; readonly channel?: string };
  /** Masking rules that fired on the response (`credential` for vaulted secrets). */
  readonly masked?: readonly string[];
}

/** One exchange as the proxy saw it, before redaction. */
export interface Exchange {
  readonly id: string;
  /** ISO 8601 with zone. */
  readonly startedDateTime: string;
  readonly request: {
    readonly method: string;
    /** Absolute URL as forwarded upstream (after stripping). */
    readonly url: string;
    readonly httpVersion: string;
    /** Headers as forwarded upstream (after stripping and injection). */
    readonly headers: readonly HeaderPair[];
    readonly body: CapturedBody | null;
  };
  /**
   * What the client was answered: Datadog's response, or Airlock's own error response for a
   * refusal (refusal-response.ts). null only when the client got no answer at all (a hold aborted
   * by the client, a crash): recorded as status 0 with `error`.
   */
  readonly response: {
    readonly status: number;
    readonly statusText: string;
    readonly httpVersion: string;
    readonly headers: readonly HeaderPair[];
    readonly body: CapturedBody;
  } | null;
  readonly error?: string;
  readonly timings: ExchangeTimings;
  readonly serverIPAddress?: string;
  /** The upstream port (Chrome reads `connection` as that). */
  readonly connection?: string;
  readonly airlock: ExchangeAirlock;
}

/** A value that must never be written anywhere, and the label it is replaced with: `[redacted:<label>]`. */
export interface Secret {
  readonly value: string;
  readonly label: string;
}

/** The identity part of a session, written once as the journal's first line and into log._airlock. */
export interface SessionMeta {
  readonly id: string;
  /** issuer + grant + sub (+ run_id, run_attempt): requests with the same key share a session. */
  readonly key: string;
  readonly issuer: string;
  readonly iss: string;
  readonly sub: string;
  readonly grant: string;
  readonly credential: string;
  /** The token's claims other than the standard time/ID ones. */
  readonly claims: Readonly<Record<string, unknown>>;
  readonly openedAt: string;
  /** For a session made by `airlock replay`: the session it replays. */
  readonly replayOf?: string;
}

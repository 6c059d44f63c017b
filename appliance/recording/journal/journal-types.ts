// The journal's line shapes (one JSON object per line in <sessionsDir>/<id>.jsonl) and the
// summary sidecar. Every string in a journal line is already redacted.
import type { ExchangeAirlock, ExchangeTimings, HeaderPair, SessionMeta } from '../../lib/exchange-types.js';

interface JournalSessionLine extends SessionMeta {
  readonly type: 'session';
  /** The random origin of the session's hash chains (chain.ts). */
  readonly chain?: { readonly alg: string; readonly origin: string };
}

/** Written before the request goes upstream: proof that recording works (fail closed). */
export interface JournalBeginLine {
  readonly type: 'begin';
  readonly id: string;
  readonly startedDateTime: string;
  readonly method: string;
  /** Redacted. */
  readonly url: string;
  /** Why this begin may never get its exchange, e.g. "held" for approval: the HAR says so. */
  readonly note?: string;
}

/**
 * A body as it is stored: either `text` (valid UTF-8, redacted) or `base64` (binary, with every
 * secret's bytes replaced). When the wire bytes were content-encoded and could be decoded, the
 * stored form is the decoded one (`decoded: true`), because only the decoded form can be redacted.
 */
export interface JournalBody {
  /** Bytes seen on the wire in total (still content-encoded). */
  readonly wireSize: number;
  /** Wire bytes actually captured (at most recording.maxBodyBytes). */
  readonly capturedBytes: number;
  /** Length of the decoded content: exact when complete, the captured prefix when truncated. */
  readonly contentSize: number;
  readonly truncated: boolean;
  /** Content-Encoding of the wire bytes, lower case, when not identity. */
  readonly contentEncoding?: string;
  /** true when text/base64 holds the decoded form of content-encoded wire bytes. */
  readonly decoded?: boolean;
  readonly text?: string;
  readonly base64?: string;
  /** Why the stored form differs from what a reader might expect (decode failure, partial decode). */
  readonly note?: string;
}

export interface JournalExchangeLine {
  readonly type: 'exchange';
  readonly id: string;
  readonly startedDateTime: string;
  readonly request: {
    readonly method: string;
    readonly url: string;
    readonly httpVersion: string;
    readonly headers: readonly HeaderPair[];
    /** Computed from the unredacted header lines (see headers-size.ts). */
    readonly headersSize: number;
    readonly body: JournalBody | null;
  };
  readonly response: {
    readonly status: number;
    readonly statusText: string;
    readonly httpVersion: string;
    readonly headers: readonly HeaderPair[];
    readonly headersSize: number;
    readonly body: JournalBody;
  } | null;
  readonly error?: string;
  readonly timings: ExchangeTimings;
  readonly serverIPAddress?: string;
  readonly connection?: string;
  readonly airlock: ExchangeAirlock;
}

export type JournalLine = JournalSessionLine | JournalBeginLine | JournalExchangeLine;

type SessionStatus = 'open' | 'closed';

/** The `<id>.meta.json` sidecar: enough to list sessions without opening a HAR. */
export interface SessionSummary extends SessionMeta {
  readonly status: SessionStatus;
  readonly closedAt: string | null;
  readonly closeReason: string | null;
  readonly entryCount: number;
  readonly lastActivityAt: string;
  /** When the HAR and its signature reached the configured sink (recording.sink). */
  readonly shippedAt?: string;
}

// What the pipeline needs from the rest of Airlock, as narrow interfaces: identity, the recording
// sessions, the vault and the upstream are injected (server.ts, proxy/handle-request.ts).
import type { Readable } from 'node:stream';
import type { AirlockError } from '../errors.js';
import type { Identity } from '../identity/types.js';
import type { CapturedBody, Exchange, ExchangeTimings, Secret, SessionMeta } from '../lib/exchange-types.js';
import type { BodyFraming } from './canonical-request.js';

// A port's answer that is known at once (a cached verdict, an open session, a journal line written
// now) comes back as a value, not a promise: the pipeline then goes on in the same turn instead of
// one microtask hop per await. Whatever has to wait for I/O is a promise.

export interface IdentityPort {
  /**
   * Verifies a token and matches a grant; fails with AirlockError TOKEN_INVALID / NO_GRANT (thrown,
   * or rejected when the answer took a verification). A value when the verdict is known now.
   */
  resolve(token: string): Identity | Promise<Identity>;
  /** For a request carrying no token: the host's bound job (`airlock login --bind`), else null. */
  ambient?(): Identity | null;
  /** Which login session an `alk_` token or stand-in key names, null if none: lets a key-shaped stand-in count as a token. */
  sessionOf?(value: string): string | null;
}

export interface SessionsPort {
  /** The identity's open session (a value when it is open already), opened if there is none. */
  ensure(identity: Identity): SessionMeta | Promise<SessionMeta>;
  /** The begin line in the journal: undefined when it is written already, else a promise; a failure rejects. */
  begin(
    sessionId: string,
    b: { id: string; startedDateTime: string; method: string; url: string; note?: string },
    secrets?: readonly Secret[],
  ): Promise<void> | undefined;
  /** The exchange line in the journal, as for begin. */
  record(sessionId: string, ex: Exchange, secrets: readonly Secret[]): Promise<void> | undefined;
}

export interface VaultPort {
  get(name: string): { readonly apiKey: string; readonly appKey?: string | undefined; readonly previous?: readonly unknown[] | undefined } | undefined;
}

/** What the forward stage sends upstream (proxy/forward.ts carries it out). */
export interface UpstreamRequest {
  readonly method: string;
  /** Origin-form target, credentials stripped. */
  readonly path: string;
  /** Flat [name, value, ...] as they go upstream. */
  readonly headers: readonly string[];
  readonly body: Readable;
  readonly framing: BodyFraming;
  /** The recording session: its requests use a pool of their own. */
  readonly session: string;
}

/** The request body as it was sent: its size, and its first recording.maxBodyBytes. */
export interface SentBody {
  readonly size: number;
  /** `declaredSize` (Content-Length) stands in for the total when the rest has not been read. */
  body(declaredSize?: number): CapturedBody;
}

/** A response whose head and first recording.maxBodyBytes are in hand, not yet sent to the client. */
export interface UpstreamResponse {
  readonly status: number;
  readonly statusText: string;
  readonly httpVersion: string;
  readonly rawHeaders: string[];
  readonly requestBody: SentBody;
  /** The bytes read so far, in order: sent to the client first. */
  readonly held: Buffer[];
  /** Still to be streamed after the held bytes, or null when the body has ended. */
  readonly rest: (Readable & { readonly complete: boolean }) | null;
  readonly timings: ExchangeTimings;
  readonly serverIPAddress: string;
  readonly serverPort: number;
}

export type UpstreamResult =
  | { readonly ok: true; readonly response: UpstreamResponse }
  /** No response came; what was sent (if anything) is kept for the record. */
  | { readonly ok: false; readonly error: AirlockError; readonly requestBody: SentBody | undefined; readonly timings: ExchangeTimings | undefined };

/** The upstream of one intercepted connection: its destination is bound by the proxy. */
export interface UpstreamPort {
  send(request: UpstreamRequest): Promise<UpstreamResult>;
}

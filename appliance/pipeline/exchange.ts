// The exchange as it moves through the pipeline (run-pipeline.ts): one typed object per point in
// the order, each carrying the canonical request and what the earlier stages established. A stage
// takes one and returns the next (`continue`) or a Refusal; nothing in a stage writes the answer.
// The types are the points; at run time one object is extended from point to point (advance).
import type http from 'node:http';
import type { Readable } from 'node:stream';
import type { AirlockError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Identity } from '../identity/types.js';
import type { Approval } from '../approvals/approval-queue.js';
import type { Guard } from '../policy/guard.js';
import type { RuleRef } from '../policy/decide.js';
import type { StripResult } from '../credentials/strip-agent-credentials.js';
import type { MaskedResponse } from '../masking/mask-response.js';
import type { Secret, SessionMeta } from '../lib/exchange-types.js';
import type { Limits } from '../lib/limits.js';
import type { IdentityPort, SessionsPort, UpstreamPort, UpstreamResponse, VaultPort } from './ports.js';
import type { Authority, CanonicalRequest } from './canonical-request.js';
import type { Decision } from '../lib/decision.js';
import type { Refusal } from './refusal.js';

export interface PipelineDeps {
  readonly identity: IdentityPort;
  readonly sessions: SessionsPort;
  readonly vault: VaultPort;
  /** The upstream pool of one recording session: sockets never carry two sessions' requests. */
  readonly agentFor: (sessionId: string) => http.Agent;
  readonly maxBodyBytes: number;
  readonly upstreamTimeoutMs: number;
  readonly now: () => number;
  /** Policies, rate limits, approval holds and masking rules; absent, everything is allowed (vaulted secrets are still masked). */
  readonly guard?: Guard;
  /** Connection and in-flight byte caps; absent, none. */
  readonly limits?: Limits;
  /** Told once per request when its response is done (metrics/metrics.ts); absent, nothing is counted. */
  readonly metrics?: RequestMetricsPort;
}

export interface RequestMetricsPort {
  request(
    facts: {
      decision: Decision;
      code?: string | undefined;
      grant?: string | undefined;
      host: string;
      bytesIn?: number | undefined;
      bytesOut?: number | undefined;
    },
    upstreamMs: number | undefined,
    addedMs: number | undefined,
  ): void;
}

/** Where an intercepted request goes, established before the pipeline runs. */
export interface Target {
  /** The intercepted host the request goes to (normalized). */
  readonly host: string;
  /** Sends the request to that host's resolved address (proxy/handle-request.ts binds it). */
  readonly upstream: UpstreamPort;
  /** The Host header value to send upstream. */
  readonly hostHeader: string;
  /** What the connection was made for (the tunnel's host:443, or a plain request URL's host:port). */
  readonly authority: Authority;
  readonly proxyAuthorization: string | undefined;
  readonly log: Logger;
}

/** The client's side of one exchange, made by proxy/handle-request.ts from Node's request and response. */
export interface Client {
  /** The request as received: request line, raw headers, body stream and socket. */
  readonly req: http.IncomingMessage;
  /** Runs `fn` once when the response to the client closes (answered, or the client went away); returns its removal. */
  onClose(fn: () => void): () => void;
  /** Answers with Airlock's error response (errors.ts); returns the status sent. */
  answer(err: AirlockError): number;
  /** Closes the connection with no answer. */
  drop(): void;
  /**
   * Pauses every deadline of the client's connection (an approval hold can last minutes with no
   * byte moving); returns what restarts them.
   */
  suspendTimers(): () => void;
  /** Streams a masked response to the client; returns the body bytes sent. */
  deliver(shown: MaskedResponse, log: Logger): Promise<number>;
  /** The status the client has been sent so far. */
  status(): number;
}

/** Before any stage: what the proxy knows of the arrival. */
export interface Arrived {
  readonly id: string;
  /** deps.now() when the request arrived. */
  readonly started: number;
  readonly startedDateTime: string;
  /** "HTTP/1.1" */
  readonly httpVersion: string;
  readonly method: string;
  readonly target: Target;
  readonly client: Client;
  /** The exchange's own child logger. */
  readonly log: Logger;
  /**
   * One guard for the whole exchange: a reload (reload/live-config.ts) swaps deps.guard, and a
   * request must not be decided by one policy and masked by another config's rules.
   */
  readonly guard: Guard | undefined;
  /** Every value known by now that must never be written: each stage that learns one adds it in front. */
  readonly secrets: readonly Secret[];
}

/**
 * After the canonical-request stage. A request that cannot be parsed is still attributed and
 * recorded (with no target: it may hold a key) once the identity stage has run, so the parse
 * error waits here and the strip stage, the first that needs the parsed request, gives it.
 */
export interface Parsed extends Arrived {
  readonly canon: CanonicalRequest | null;
  readonly unparsed: AirlockError | null;
}

export interface Attributed extends Parsed {
  readonly identity: Identity;
  /** issuer, sub, auth form and the job's claims (identity/attribution.ts). */
  readonly attribution: Readonly<Record<string, string>>;
}

export interface Identified extends Attributed {
  readonly session: SessionMeta;
}

export interface Stripped extends Identified {
  readonly canon: CanonicalRequest;
  /** The request with every agent-supplied credential removed (URL userinfo included). */
  readonly stripped: StripResult;
  /** The absolute URL as forwarded, after stripping. */
  readonly url: string;
}

export interface Guarded extends Stripped {
  /** The request body to send (the policy may have read some or all of it). */
  readonly body: Readable;
  readonly decision: Decision;
  readonly rule?: RuleRef;
  readonly approval?: Approval;
}

export interface Injected extends Guarded {
  readonly entry: NonNullable<ReturnType<VaultPort['get']>>;
  /** The headers as forwarded: stripped, the vaulted key injected, Host and framing set. */
  readonly headers: readonly string[];
  readonly injected: readonly string[];
}

export interface Forwarded extends Injected {
  readonly outcome: UpstreamResponse;
}

export interface Masked extends Forwarded {
  readonly shown: MaskedResponse;
}

/** Any point in the order: what a refusal or the log line is made from. */
export type AnyExchange = Parsed & Partial<Omit<Masked, keyof Parsed>>;

export type Verdict<X> = { readonly kind: 'continue'; readonly x: X } | Refusal;

export function proceed<X>(x: X): Verdict<X> {
  return { kind: 'continue', x };
}

/**
 * The next point in the order: `x` with what a stage established added onto it. One object is
 * carried through a request's run (copying its ~15 fields at each of nine stages was a measured
 * share of a request's CPU), so a stage adds its fields only on its way to `continue`: a refusal,
 * and the log line, see exactly what the stages before it established.
 */
export function advance<X extends object, A extends object>(x: X, add: A): X & A {
  return Object.assign(x, add);
}

export type { Refusal };

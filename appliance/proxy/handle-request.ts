import type http from 'node:http';
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { AirlockError, isAirlockError } from '../errors.js';
import { redactForLog, type Logger } from '../log.js';
import type { Identity } from '../identity/types.js';
import { findToken } from '../identity/carriers.js';
import { attributionOf } from '../identity/attribution.js';
import { stripAgentCredentials } from '../credentials/strip-agent-credentials.js';
import { injectCredential } from '../credentials/inject-credential.js';
import { noteKeyRefused } from '../credentials/key-refusals.js';
import type { VaultEntry } from '../credentials/types.js';
import type { Exchange, Secret, SessionMeta } from '../lib/exchange-types.js';
import { Capture } from './capture.js';
import type { ConnectState } from './connect-state.js';
import { headerValue, setHeader, toPairs } from '../lib/headers.js';
import { canonicalRequest, type Authority, type CanonicalRequest } from '../pipeline/canonical-request.js';
import { originalUrl } from './original-url.js';
import { frameHeaders, upstreamFraming } from './frame-headers.js';
import { forward, ForwardError, type ForwardOutcome } from './forward.js';
import type { IdentityPort, SessionsPort, VaultPort } from './ports.js';
import { respondError } from '../lib/respond-error.js';
import { refusalResponse } from '../recording/journal/index.js';
import type { Destination } from './resolve-destination.js';
import { applyGuard } from './apply-guard.js';
import type { Limits } from '../lib/limits.js';
import type { Guard } from '../policy/guard.js';
import { maskResponse, NO_MASK_RULES, type MaskedResponse } from '../masking/mask-response.js';
import { credentialSecrets, maskSecrets, NO_SECRETS } from './exchange-secrets.js';

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
  request(facts: { decision: string; code?: string | undefined; grant?: string | undefined; host: string; bytesIn?: number | undefined; bytesOut?: number | undefined }, upstreamMs: number | undefined, addedMs: number | undefined): void;
}

/** Where an intercepted request goes, established before the pipeline runs. */
export interface Target {
  readonly destination: Destination;
  /** The Host header value to send upstream. */
  readonly hostHeader: string;
  /** What the connection was made for (the tunnel's host:443, or a plain request URL's host:port). */
  readonly authority: Authority;
  readonly proxyAuthorization: string | undefined;
  readonly log: Logger;
}

interface Canonical {
  session?: string;
  sub?: string;
  grant?: string;
  /** issuer, sub, auth form and the job's claims (identity/attribution.ts). */
  identity?: Record<string, string>;
  method: string;
  host: string;
  path: string;
  status?: number;
  bytesIn?: number;
  bytesOut?: number;
  durationMs?: number;
  decision: string;
  code?: string;
  reason?: string;
}

/**
 * The request pipeline for intercepted hosts: identity, strip, inject, record, forward, record,
 * respond. Every failure becomes one of Airlock's error responses; nothing here throws out.
 */
export async function handleIntercepted(
  deps: PipelineDeps,
  target: Target,
  req: http.IncomingMessage,
  res: http.ServerResponse,
): Promise<void> {
  const started = deps.now();
  // One guard for the whole exchange: a reload (reload/live-config.ts) swaps deps.guard, and a
  // request must not be decided by one policy and masked by another config's rules.
  const guard = deps.guard;
  const exchangeId = randomUUID();
  const log = target.log.child({ exchange: exchangeId.slice(0, 8) });
  const method = req.method ?? 'GET';
  // Parsed once, strictly: every stage below reads `canon` (or the strip result made from it),
  // never the raw request line or headers. A request that cannot be parsed is still attributed
  // and recorded (with no target: it may hold a key) once the identity stage has run.
  let canon: CanonicalRequest | null = null;
  let unparsed: AirlockError | null = null;
  try {
    canon = canonicalRequest({ method: req.method, target: originalUrl(req), rawHeaders: req.rawHeaders }, target.authority);
  } catch (err) {
    unparsed = isAirlockError(err) ? err : new AirlockError('BAD_REQUEST');
  }
  // Stripped first so that no log line, record or error ever carries an agent key from the URL.
  const strippedRaw = stripAgentCredentials({ path: canon?.target ?? '/', rawHeaders: canon?.headers ?? [] });
  const stripped = {
    ...strippedRaw,
    stripped: [...(canon?.stripped ?? []), ...strippedRaw.stripped],
    removedValues: [...(canon?.removedValues ?? []), ...strippedRaw.removedValues],
  };
  const host = target.destination.host;
  const url = `https://${host}${stripped.path}`;
  const line: Canonical = { method, host, path: stripped.path.split('?')[0] ?? '/', decision: 'refused' };
  let bytesOut = 0;
  // For metrics: HAR connect + send + wait of the upstream exchange, and Airlock's own time before the response.
  let upstreamMs: number | undefined;
  let addedMs: number | undefined;
  // The first label that matches a value wins: name the token as such, not as an agent key.
  let secrets: Secret[] = stripped.removedValues.map((value) => ({ value, label: 'agent credential' }));

  res.once('close', () => {
    // The path is the agent's: a token or key in it is redacted with everything known by now.
    line.path = redactForLog(line.path, secrets);
    line.durationMs = Math.round((deps.now() - started) * 1000) / 1000;
    line.bytesOut = bytesOut;
    line.status ??= res.statusCode;
    log.info(line, 'request');
    deps.metrics?.request(line, upstreamMs, addedMs ?? line.durationMs);
  });

  let identity: Identity;
  let attribution: Record<string, string>;
  let session: SessionMeta;
  let token: string;
  try {
    const found = findToken({ proxyAuthorization: target.proxyAuthorization, rawHeaders: req.rawHeaders, sessionOf: (v) => deps.identity.sessionOf?.(v) ?? null });
    // A request that carries a token is judged by it; only one carrying none may fall to the host's binding.
    const ambient = found ? null : (deps.identity.ambient?.() ?? null);
    if (!found && !ambient) throw new AirlockError('TOKEN_MISSING');
    token = found?.token ?? '';
    identity = ambient ?? (await deps.identity.resolve(token));
    attribution = attributionOf(identity);
    Object.assign(line, { sub: identity.sub, grant: identity.grant, identity: attribution });
    session = await deps.sessions.ensure(identity);
    line.session = session.id;
  } catch (err) {
    drain(req);
    line.code = codeOf(err);
    // The detail is what the client is told (never a secret): the operator sees the same reason.
    if (isAirlockError(err) && err.detail) line.reason = err.detail;
    if (!isAirlockError(err)) log.error({ err }, 'identity stage failed');
    line.status = respondError(res, err);
    return;
  }

  if (token !== '') secrets = [{ value: token, label: 'identity token' }, ...secrets];
  const startedDateTime = new Date(started).toISOString();
  const base = {
    id: exchangeId,
    startedDateTime,
    httpVersion: `HTTP/${req.httpVersion}`,
  };
  // A refusal is recorded with the answer the client got (refusal-response.ts); `err` is null
  // only when the client got none (an aborted hold).
  const refusedExchange = (err: AirlockError | null, outHeaders: readonly string[], code: string = err?.code ?? 'INTERNAL'): Exchange => ({
    id: exchangeId,
    startedDateTime,
    request: { method, url, httpVersion: base.httpVersion, headers: toPairs(outHeaders), body: null },
    response: err ? refusalResponse(err, base.httpVersion) : null,
    ...(err ? {} : { error: `refused by Airlock: ${code}` }),
    timings: { blocked: -1, dns: -1, connect: -1, ssl: -1, send: 0, wait: 0, receive: 0 },
    airlock: { decision: 'refused', code, errorCode: code, forwarded: false, grant: identity.grant, credential: identity.credential, session: session.id, identity: attribution, stripped: stripped.stripped, injected: [] },
  });

  if (unparsed || !canon) {
    const err = unparsed ?? new AirlockError('BAD_REQUEST');
    drain(req);
    line.code = err.code;
    if (err.detail) line.reason = err.detail;
    await deps.sessions.record(session.id, refusedExchange(err, []), secrets).catch((e: unknown) => {
      log.error({ err: e }, 'could not record a refused exchange');
    });
    line.status = respondError(res, err);
    return;
  }
  const framing = canon.framing;

  let body: Readable = req;
  let guarded: { decision: string; rule?: Readonly<Record<string, unknown>>; approval?: { by: string; at: string; note?: string; channel?: string } } = { decision: 'forwarded' };
  if (guard) {
    const v = await applyGuard({
      guard, identity, sessionId: session.id, method, host, path: stripped.path, url, req, res, log,
      maxBodyBytes: deps.maxBodyBytes, secrets, startedDateTime,
      refused: (err, code) => refusedExchange(err, stripped.rawHeaders, code),
      record: (ex) => deps.sessions.record(session.id, ex, secrets),
      begin: (note) => deps.sessions.begin(session.id, { id: exchangeId, startedDateTime, method, url, note }, secrets),
      respond: (err) => respondError(res, err),
    });
    if (!v.go) {
      Object.assign(line, { code: v.code, decision: v.decision, status: v.status });
      return;
    }
    body = v.body;
    guarded = { decision: v.decision, rule: { ...v.rule }, ...(v.approval ? { approval: v.approval } : {}) };
  }

  const entry = deps.vault.get(identity.credential);
  let headers = stripped.rawHeaders;
  if (!entry) {
    drain(req);
    const err = new AirlockError('CREDENTIAL_MISSING', `grant ${identity.grant} names ${identity.credential}`);
    line.code = err.code;
    await deps.sessions.record(session.id, refusedExchange(err, headers), secrets).catch((e: unknown) => {
      log.error({ err: e }, 'could not record a refused exchange');
    });
    line.status = respondError(res, err);
    return;
  }
  // Connections per session and bytes held for unread responses are capped (proxy/limits.ts).
  const admitted = deps.limits?.admit(req.socket, session.id);
  if (admitted && !admitted.ok) {
    drain(req);
    const err = admitted.error;
    line.code = err.code;
    if (err.detail) line.reason = err.detail;
    await deps.sessions.record(session.id, refusedExchange(err, headers), secrets).catch((e: unknown) => {
      log.error({ err: e }, 'could not record a refused exchange');
    });
    line.status = respondError(res, err);
    return;
  }
  // A pipelined response still queued behind another never emits 'close': Limits releases on the
  // socket's close too, with one listener per connection.
  if (admitted) res.once('close', admitted.release);
  // A new array (not unshift): secrets prepared for the guard's journal lines stay as they were.
  secrets = [...credentialSecrets(identity.credential, entry), ...secrets];
  const injected = injectCredential(headers, entry as VaultEntry);
  // Host and framing last, after Connection nominations and stripping: recorded as forwarded.
  headers = frameHeaders(setHeader(injected.rawHeaders, 'host', target.hostHeader), upstreamFraming(method, framing));
  const airlock = {
    decision: guarded.decision,
    ...(guarded.rule ? { rule: { ...guarded.rule } } : {}),
    ...(guarded.approval ? { approval: guarded.approval } : {}),
    grant: identity.grant,
    credential: identity.credential,
    session: session.id,
    identity: attribution,
    stripped: stripped.stripped,
    injected: injected.injected,
  };

  try {
    // Fail closed: if the exchange cannot be journalled, nothing is sent upstream.
    await deps.sessions.begin(session.id, { id: exchangeId, startedDateTime, method, url }, secrets);
  } catch (err) {
    drain(req);
    line.code = codeOf(err);
    line.status = respondError(res, isAirlockError(err) ? err : new AirlockError('RECORDING_FAILED'));
    return;
  }

  let outcome: ForwardOutcome;
  try {
    outcome = await forward({
      destination: target.destination,
      tls: true,
      method,
      path: stripped.path,
      headers,
      body,
      framing,
      agent: deps.agentFor(session.id),
      maxBodyBytes: deps.maxBodyBytes,
      timeoutMs: deps.upstreamTimeoutMs,
      now: deps.now,
    });
  } catch (err) {
    const fe = err instanceof ForwardError ? err : new ForwardError('UPSTREAM_UNREACHABLE');
    line.code = fe.code;
    line.decision = 'error';
    const ex: Exchange = {
      ...refusedExchange(fe, headers),
      request: { method, url, httpVersion: base.httpVersion, headers: toPairs(headers), body: fe.requestBody?.body(declared(req)) ?? null },
      error: fe.message,
      timings: fe.timings ?? refusedExchange(fe, headers).timings,
      // Sent (in part at least) when a request body capture exists: the upstream may have acted on it.
      airlock: { ...airlock, decision: 'error', code: fe.code, errorCode: fe.code, forwarded: fe.requestBody !== undefined },
    };
    await deps.sessions.record(session.id, ex, secrets).catch((e: unknown) => log.error({ err: e }, 'could not record a failed exchange'));
    line.status = respondError(res, fe);
    return;
  }

  line.decision = guarded.decision;
  line.bytesIn = outcome.requestBody.size;
  if (outcome.status === 403) noteKeyRefused(log, identity.credential, (entry.previous?.length ?? 0) > 0);
  let shown: MaskedResponse;
  try {
    // Masked before it is recorded and before the agent sees a byte of it.
    shown = maskResponse(
      { method, status: outcome.status, statusText: outcome.statusText, rawHeaders: outcome.rawHeaders, held: outcome.held, rest: outcome.rest },
      maskSecrets(entry, guard?.secretValues() ?? NO_SECRETS),
      guard?.masking ?? NO_MASK_RULES,
      deps.maxBodyBytes,
    );
  } catch (err) {
    outcome.rest?.destroy();
    const e = isAirlockError(err) ? err : new AirlockError('MASKING_UNAVAILABLE');
    Object.assign(line, { code: e.code, decision: 'error' });
    const ex = refusedExchange(e, headers);
    await deps.sessions.record(session.id, { ...ex, error: e.message, timings: outcome.timings, airlock: { ...airlock, decision: 'error', code: e.code, errorCode: e.code, forwarded: true } }, secrets).catch((e2: unknown) => log.error({ err: e2 }, 'could not record an unmaskable exchange'));
    line.status = respondError(res, e);
    return;
  }
  const exchange: Exchange = {
    id: exchangeId,
    startedDateTime,
    request: { method, url, httpVersion: base.httpVersion, headers: toPairs(headers), body: outcome.requestBody.body(declared(req)) },
    response: {
      status: outcome.status,
      statusText: shown.statusText,
      httpVersion: outcome.httpVersion,
      headers: toPairs(shown.rawHeaders),
      body: shown.body,
    },
    timings: outcome.timings,
    serverIPAddress: outcome.serverIPAddress,
    connection: String(outcome.serverPort),
    airlock: shown.fired.length > 0 ? { ...airlock, forwarded: true, masked: shown.fired } : { ...airlock, forwarded: true },
  };
  try {
    // Recorded before a byte of the response reaches the client.
    await deps.sessions.record(session.id, exchange, secrets);
  } catch (err) {
    // The request was forwarded: the store answers RECORDING_INCOMPLETE, and so does any surprise.
    outcome.rest?.destroy();
    const e = isAirlockError(err) ? err : new AirlockError('RECORDING_INCOMPLETE');
    line.code = e.code;
    line.status = respondError(res, e);
    return;
  }
  line.status = outcome.status;
  // connect includes ssl (HAR); blocked is the pool's wait, Airlock's own.
  upstreamMs = Math.max(0, outcome.timings.connect) + Math.max(0, outcome.timings.send) + Math.max(0, outcome.timings.wait);
  addedMs = deps.now() - started - upstreamMs;
  bytesOut = await shown.deliver(res, log);
  // A response not read to its end (the client went away) must not leave its socket to the pool.
  if (outcome.rest && !outcome.rest.complete) outcome.rest.destroy();
}

function declared(req: http.IncomingMessage): number | undefined {
  return declaredLength(req.rawHeaders);
}

function declaredLength(raw: readonly string[]): number | undefined {
  const v = headerValue(raw, 'content-length');
  const n = v === undefined ? NaN : Number(v);
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

function codeOf(err: unknown): string {
  return isAirlockError(err) ? err.code : 'INTERNAL';
}

/** Reads and drops a refused request's body so the connection can be reused; capped by the socket timeout. */
function drain(req: http.IncomingMessage): void {
  req.resume();
  req.on('error', () => undefined);
}

export function tlsServername(req: http.IncomingMessage): string | undefined {
  const s = (req.socket as TLSSocket).servername;
  return typeof s === 'string' && s.length > 0 ? s : undefined;
}

export function newConnectionId(): string {
  return randomUUID().slice(0, 8);
}

export type { ConnectState, Capture };

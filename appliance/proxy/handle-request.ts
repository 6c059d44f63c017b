import type http from 'node:http';
import { randomUUID } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { AirlockError, isAirlockError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Identity } from '../identity/types.js';
import { findToken } from '../identity/carriers.js';
import { stripAgentCredentials } from '../credentials/strip-agent-credentials.js';
import { injectCredential } from '../credentials/inject-credential.js';
import type { VaultEntry } from '../credentials/types.js';
import type { Exchange, Secret, SessionMeta } from '../recording/types.js';
import { Capture } from './capture.js';
import type { ConnectState } from './connect-state.js';
import { endToEndHeaders, headerValue, setHeader, toPairs } from './headers.js';
import { forward, ForwardError, type ForwardOutcome } from './forward.js';
import type { IdentityPort, SessionsPort, VaultPort } from './ports.js';
import { respondError } from './respond-error.js';
import type { Destination } from './resolve-destination.js';

export interface PipelineDeps {
  readonly identity: IdentityPort;
  readonly sessions: SessionsPort;
  readonly vault: VaultPort;
  readonly agent: http.Agent;
  readonly maxBodyBytes: number;
  readonly upstreamTimeoutMs: number;
  readonly now: () => number;
}

/** Where an intercepted request goes, established before the pipeline runs. */
export interface Target {
  readonly destination: Destination;
  /** The Host header value to send upstream. */
  readonly hostHeader: string;
  readonly proxyAuthorization: string | undefined;
  readonly log: Logger;
}

interface Canonical {
  session?: string;
  sub?: string;
  grant?: string;
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
  const exchangeId = randomUUID();
  const log = target.log.child({ exchange: exchangeId.slice(0, 8) });
  const method = req.method ?? 'GET';
  // Stripped first so that no log line, record or error ever carries an agent key from the URL.
  const stripped = stripAgentCredentials({ path: req.url ?? '/', rawHeaders: req.rawHeaders });
  const host = target.destination.host;
  const url = `https://${host}${stripped.path}`;
  const line: Canonical = { method, host, path: stripped.path.split('?')[0] ?? '/', decision: 'refused' };
  let bytesOut = 0;

  res.once('close', () => {
    line.durationMs = Math.round((deps.now() - started) * 1000) / 1000;
    line.bytesOut = bytesOut;
    line.status ??= res.statusCode;
    log.info(line, 'request');
  });

  let identity: Identity;
  let session: SessionMeta;
  let token: string;
  try {
    const found = findToken({ proxyAuthorization: target.proxyAuthorization, rawHeaders: req.rawHeaders });
    if (!found) throw new AirlockError('TOKEN_MISSING');
    token = found.token;
    identity = await deps.identity.resolve(token);
    Object.assign(line, { sub: identity.sub, grant: identity.grant });
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

  // The first label that matches a value wins: name the token as such, not as an agent key.
  const secrets: Secret[] = [
    { value: token, label: 'identity token' },
    ...stripped.removedValues.map((value) => ({ value, label: 'agent credential' })),
  ];
  const startedDateTime = new Date(started).toISOString();
  const base = {
    id: exchangeId,
    startedDateTime,
    httpVersion: `HTTP/${req.httpVersion}`,
  };
  const refusedExchange = (code: string, status: number, outHeaders: readonly string[]): Exchange => ({
    id: exchangeId,
    startedDateTime,
    request: { method, url, httpVersion: base.httpVersion, headers: toPairs(outHeaders), body: null },
    response: null,
    error: `refused by Airlock: ${code} (${status})`,
    timings: { blocked: -1, dns: -1, connect: -1, ssl: -1, send: 0, wait: 0, receive: 0 },
    airlock: { decision: 'refused', errorCode: code, grant: identity.grant, credential: identity.credential, stripped: stripped.stripped, injected: [] },
  });

  const entry = deps.vault.get(identity.credential);
  let headers = endToEndHeaders(stripped.rawHeaders);
  if (!entry) {
    drain(req);
    const err = new AirlockError('CREDENTIAL_MISSING', `grant ${identity.grant} names ${identity.credential}`);
    line.code = err.code;
    await deps.sessions.record(session.id, refusedExchange(err.code, err.status, headers), secrets).catch((e: unknown) => {
      log.error({ err: e }, 'could not record a refused exchange');
    });
    line.status = respondError(res, err);
    return;
  }
  secrets.unshift(...credentialSecrets(identity.credential, entry));
  const injected = injectCredential(headers, entry as VaultEntry);
  headers = setHeader(injected.rawHeaders, 'host', target.hostHeader);
  const airlock = {
    decision: 'forwarded',
    grant: identity.grant,
    credential: identity.credential,
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
      body: req,
      agent: deps.agent,
      maxBodyBytes: deps.maxBodyBytes,
      timeoutMs: deps.upstreamTimeoutMs,
      now: deps.now,
    });
  } catch (err) {
    const fe = err instanceof ForwardError ? err : new ForwardError('UPSTREAM_UNREACHABLE');
    line.code = fe.code;
    line.decision = 'error';
    const ex: Exchange = {
      ...refusedExchange(fe.code, fe.status, headers),
      request: { method, url, httpVersion: base.httpVersion, headers: toPairs(headers), body: fe.requestBody?.body(declared(req)) ?? null },
      error: fe.message,
      timings: fe.timings ?? refusedExchange(fe.code, fe.status, headers).timings,
      airlock: { ...airlock, decision: 'error', errorCode: fe.code },
    };
    await deps.sessions.record(session.id, ex, secrets).catch((e: unknown) => log.error({ err: e }, 'could not record a failed exchange'));
    line.status = respondError(res, fe);
    return;
  }

  line.decision = 'forwarded';
  line.bytesIn = outcome.requestBody.size;
  const exchange: Exchange = {
    id: exchangeId,
    startedDateTime,
    request: { method, url, httpVersion: base.httpVersion, headers: toPairs(headers), body: outcome.requestBody.body(declared(req)) },
    response: {
      status: outcome.status,
      statusText: outcome.statusText,
      httpVersion: outcome.httpVersion,
      headers: toPairs(outcome.rawHeaders),
      body: outcome.responseBody.body(declaredLength(outcome.rawHeaders)),
    },
    timings: outcome.timings,
    serverIPAddress: outcome.serverIPAddress,
    connection: String(outcome.serverPort),
    airlock,
  };
  try {
    // Recorded before a byte of the response reaches the client.
    await deps.sessions.record(session.id, exchange, secrets);
  } catch (err) {
    outcome.rest?.destroy();
    line.code = codeOf(err);
    line.status = respondError(res, isAirlockError(err) ? err : new AirlockError('RECORDING_FAILED'));
    return;
  }
  line.status = outcome.status;
  bytesOut = await deliver(outcome, res, log);
}

async function deliver(outcome: ForwardOutcome, res: http.ServerResponse, log: Logger): Promise<number> {
  let bytes = 0;
  res.writeHead(outcome.status, outcome.statusText, endToEndHeaders(outcome.rawHeaders));
  for (const chunk of outcome.held) {
    bytes += chunk.length;
    res.write(chunk);
  }
  if (!outcome.rest) {
    res.end();
    return bytes;
  }
  const counter = new Transform({
    transform(chunk: Buffer, _e, cb) {
      bytes += chunk.length;
      cb(null, chunk);
    },
  });
  outcome.rest.resume();
  try {
    await pipeline(outcome.rest, counter, res);
  } catch (err) {
    log.debug({ code: (err as NodeJS.ErrnoException).code }, 'response stream ended early');
  }
  return bytes;
}

function credentialSecrets(name: string, entry: { apiKey: string; appKey?: string | undefined }): Secret[] {
  const out: Secret[] = [{ value: entry.apiKey, label: `credential ${name} api key` }];
  if (entry.appKey) out.push({ value: entry.appKey, label: `credential ${name} application key` });
  return out;
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

import http from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import type { Socket } from 'node:net';
import { AirlockError } from '../errors.js';
import type { ExchangeTimings } from '../lib/exchange-types.js';
import { Capture } from './capture.js';
import type { Destination } from './resolve-destination.js';
import type { BodyFraming } from '../pipeline/canonical-request.js';
import { frameHeaders, upstreamFraming } from '../pipeline/frame-headers.js';

export interface ForwardInput {
  readonly destination: Destination;
  readonly tls: boolean;
  readonly method: string;
  readonly path: string;
  /** Flat [name, value, ...] as they go upstream; any framing header in it is replaced. */
  readonly headers: readonly string[];
  readonly body: Readable;
  /** How `body` is framed upstream: its exact length when known, else chunked; none sends no body. */
  readonly framing: BodyFraming;
  readonly agent: http.Agent;
  readonly maxBodyBytes: number;
  readonly timeoutMs: number;
  readonly now: () => number;
}

/** A response whose head and first maxBodyBytes are in hand, not yet sent to the client. */
export interface ForwardOutcome {
  readonly status: number;
  readonly statusText: string;
  readonly httpVersion: string;
  readonly rawHeaders: string[];
  readonly requestBody: Capture;
  readonly responseBody: Capture;
  /** The bytes read so far, in order: sent to the client first. */
  readonly held: Buffer[];
  /** Still to be streamed after the held bytes, or null when the body has ended. */
  readonly rest: http.IncomingMessage | null;
  readonly timings: ExchangeTimings;
  readonly serverIPAddress: string;
  readonly serverPort: number;
}

/** Thrown when no response came; carries what was sent so the exchange can still be recorded. */
export class ForwardError extends AirlockError {
  requestBody: Capture | undefined;
  timings: ExchangeTimings | undefined;
}

const TLS_CODES = new Set([
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'HOSTNAME_MISMATCH',
  'ERR_SSL_WRONG_VERSION_NUMBER',
]);

function classify(err: NodeJS.ErrnoException, host: string): ForwardError {
  const code = err.code ?? '';
  if (TLS_CODES.has(code) || code.startsWith('ERR_SSL_') || code.startsWith('CERT_')) {
    return new ForwardError('UPSTREAM_TLS', `${host}: ${code}`);
  }
  return new ForwardError('UPSTREAM_UNREACHABLE', `${host}: ${code || err.message}`);
}

function ms(a: number, b: number): number {
  return Math.max(0, Math.round((b - a) * 1000) / 1000);
}

export function forward(input: ForwardInput): Promise<ForwardOutcome> {
  const { destination: dest, now } = input;
  const requestBody = new Capture(input.maxBodyBytes);
  const t = { start: now(), socket: -1, connected: -1, secured: -1, sent: -1, headers: -1 };
  let fresh = false;

  const timings = (end: number): ExchangeTimings => {
    const sendStart = t.secured >= 0 ? t.secured : t.connected >= 0 ? t.connected : t.socket >= 0 ? t.socket : t.start;
    const sent = t.sent >= 0 ? t.sent : sendStart;
    const headers = t.headers >= 0 ? t.headers : end;
    return {
      blocked: t.socket >= 0 ? ms(t.start, t.socket) : -1,
      dns: -1,
      connect: fresh && t.connected >= 0 ? ms(t.socket, t.secured >= 0 ? t.secured : t.connected) : -1,
      ssl: fresh && t.secured >= 0 ? ms(t.connected, t.secured) : -1,
      send: ms(sendStart, sent),
      wait: ms(sent, headers),
      receive: ms(headers, end),
    };
  };

  // HEAD has no request content: a body the client sent is read and dropped.
  const framing = upstreamFraming(input.method, input.framing);
  return new Promise<ForwardOutcome>((resolve, reject) => {
    let settled = false;
    // Assigned below; fail() may run only after that.
    let upReq: http.ClientRequest;
    const fail = (err: NodeJS.ErrnoException | ForwardError): void => {
      if (settled) return;
      settled = true;
      // Framing doubt, truncation or error: this upstream socket is never handed to another request.
      upReq.destroy();
      const e = err instanceof ForwardError ? err : classify(err, dest.host);
      e.requestBody = requestBody;
      e.timings = timings(now());
      reject(e);
    };

    const options: https.RequestOptions = {
      method: input.method,
      path: input.path,
      host: dest.host,
      port: dest.port,
      headers: frameHeaders(input.headers, framing),
      agent: input.agent,
      // Resolved once at CONNECT time; dialling that address closes the DNS-rebinding window.
      lookup: (_h, opts, cb) => {
        if ((opts as { all?: boolean }).all)
          (cb as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [{ address: dest.address, family: dest.family }]);
        else cb(null, dest.address, dest.family);
      },
      timeout: input.timeoutMs,
    };
    if (input.tls) options.servername = dest.host;
    upReq = (input.tls ? https : http).request(options);

    upReq.on('socket', (socket: Socket) => {
      t.socket = now();
      if (socket.connecting) {
        fresh = true;
        socket.once('connect', () => (t.connected = now()));
        socket.once('secureConnect', () => (t.secured = now()));
      }
    });
    upReq.on('finish', () => (t.sent = now()));
    upReq.on('timeout', () => upReq.destroy(Object.assign(new Error('upstream timed out'), { code: 'ETIMEDOUT' })));
    upReq.on('error', (err) => fail(err));

    upReq.on('response', (upRes: http.IncomingMessage) => {
      t.headers = now();
      const responseBody = new Capture(input.maxBodyBytes);
      const held: Buffer[] = [];
      const finish = (ended: boolean): void => {
        if (settled) return;
        settled = true;
        upRes.off('data', onData);
        upRes.off('end', onEnd);
        upRes.off('error', onError);
        const socket = upRes.socket as Socket | null;
        resolve({
          status: upRes.statusCode ?? 502,
          statusText: upRes.statusMessage ?? '',
          httpVersion: `HTTP/${upRes.httpVersion}`,
          rawHeaders: upRes.rawHeaders,
          requestBody,
          responseBody,
          held,
          rest: ended ? null : upRes,
          timings: timings(now()),
          serverIPAddress: socket?.remoteAddress ?? dest.address,
          serverPort: socket?.remotePort ?? dest.port,
        });
      };
      const onData = (chunk: Buffer): void => {
        responseBody.add(chunk);
        held.push(chunk);
        // Past the cap, stop reading: the recorded prefix is complete and the rest is streamed.
        if (responseBody.truncated) {
          upRes.pause();
          finish(false);
        }
      };
      const onEnd = (): void => finish(true);
      const onError = (err: Error): void => fail(err);
      upRes.on('data', onData);
      upRes.on('end', onEnd);
      upRes.on('error', onError);
    });

    // A hand-rolled pipe with backpressure: stream.pipeline allocates an AbortController per call
    // and aborts it (a DOMException with a stack) on every normal finish, 1.6% of the proxy's CPU.
    // Exactly the bytes the framing announced go upstream: more or fewer and the socket is destroyed.
    const body = input.body;
    // Even after the response has been handed over (fail() is then a no-op), a request body that
    // broke off or overran its framing leaves the upstream socket unusable: destroy it.
    const doubt = (): void => {
      upReq.destroy();
    };
    const sends = framing.kind !== 'none';
    let sent = 0;
    let ended = false;
    body.on('data', (chunk: Buffer) => {
      // A buffered empty body (an approved hold) arrives as one empty chunk: no bytes, no doubt.
      if (chunk.length === 0) return;
      if (!sends) {
        if (input.framing.kind === 'none') fail(new ForwardError('BAD_REQUEST', 'a body arrived for a request framed without one'));
        return;
      }
      requestBody.add(chunk);
      sent += chunk.length;
      if (framing.kind === 'length' && sent > framing.length) {
        doubt();
        fail(new ForwardError('BAD_REQUEST', 'the request body is longer than its Content-Length'));
        return;
      }
      if (!upReq.write(chunk)) body.pause();
    });
    upReq.on('drain', () => body.resume());
    body.once('end', () => {
      ended = true;
      if (framing.kind === 'length' && sent !== framing.length) {
        doubt();
        fail(new ForwardError('BAD_REQUEST', 'the request body is shorter than its Content-Length'));
        return;
      }
      if (sends) upReq.end();
    });
    body.once('error', (err: NodeJS.ErrnoException) => {
      doubt();
      fail(err);
    });
    body.once('close', () => {
      if (ended) return;
      doubt();
      fail(Object.assign(new Error('the client closed the request before its body ended'), { code: 'ECONNRESET' }));
    });
    // A request without a body goes out now, not when the client's (empty or dropped) body ends.
    if (!sends) upReq.end();
    // http-mitm-proxy paused the request before handing it over.
    body.resume();
  });
}

// The proxy's side of the request pipeline (pipeline/run-pipeline.ts): Node's request and
// response become the pipeline's Client, and the resolved destination its UpstreamPort; the
// stages reach the connections only through these two.
import type http from 'node:http';
import { randomUUID } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import type { Logger } from '../log.js';
import type { Authority } from '../pipeline/canonical-request.js';
import type { Client, PipelineDeps } from '../pipeline/exchange.js';
import type { UpstreamPort } from '../pipeline/ports.js';
import { runPipeline } from '../pipeline/run-pipeline.js';
import { forward, ForwardError } from './forward.js';
import { suspendConnectionTimers } from './connection-timers.js';
import { originalUrl } from './original-url.js';
import { respondError } from '../lib/respond-error.js';
import type { Destination } from './resolve-destination.js';

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

/** An intercepted request, through every stage; every failure becomes one of Airlock's error responses. */
export function handleIntercepted(deps: PipelineDeps, target: Target, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const { destination, ...rest } = target;
  return runPipeline(deps, { ...rest, host: destination.host, upstream: upstreamOf(deps, destination) }, clientOf(req, res), {
    method: req.method,
    target: originalUrl(req),
    rawHeaders: req.rawHeaders,
  });
}

function clientOf(req: http.IncomingMessage, res: http.ServerResponse): Client {
  return {
    req,
    onClose(fn) {
      res.once('close', fn);
      return () => res.off('close', fn);
    },
    answer: (err) => respondError(res, err),
    drop: () => res.destroy(),
    suspendTimers: () => suspendConnectionTimers(req.socket),
    deliver: (shown, log) => shown.deliver(res, log),
    status: () => res.statusCode,
  };
}

/** Intercepted hosts are reached over TLS, each recording session on its own pool. */
function upstreamOf(deps: PipelineDeps, destination: Destination): UpstreamPort {
  return {
    async send(r) {
      try {
        const response = await forward({
          destination,
          tls: true,
          method: r.method,
          path: r.path,
          headers: r.headers,
          body: r.body,
          framing: r.framing,
          agent: deps.agentFor(r.session),
          maxBodyBytes: deps.maxBodyBytes,
          timeoutMs: deps.upstreamTimeoutMs,
          now: deps.now,
        });
        return { ok: true, response };
      } catch (err) {
        const fe = err instanceof ForwardError ? err : new ForwardError('UPSTREAM_UNREACHABLE');
        return { ok: false, error: fe, requestBody: fe.requestBody, timings: fe.timings };
      }
    },
  };
}

export function tlsServername(req: http.IncomingMessage): string | undefined {
  const s = (req.socket as TLSSocket).servername;
  return typeof s === 'string' && s.length > 0 ? s : undefined;
}

export function newConnectionId(): string {
  return randomUUID().slice(0, 8);
}

export type { PipelineDeps, RequestMetricsPort } from '../pipeline/exchange.js';

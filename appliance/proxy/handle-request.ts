// The proxy's side of the request pipeline (pipeline/run-pipeline.ts): Node's request and
// response become the pipeline's Client, the only way a stage reaches the connection.
import type http from 'node:http';
import { randomUUID } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import type { Client, PipelineDeps, Target } from '../pipeline/exchange.js';
import { runPipeline } from '../pipeline/run-pipeline.js';
import { originalUrl } from './original-url.js';
import { respondError } from '../lib/respond-error.js';

/** An intercepted request, through every stage; every failure becomes one of Airlock's error responses. */
export function handleIntercepted(deps: PipelineDeps, target: Target, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  return runPipeline(deps, target, clientOf(req, res), { method: req.method, target: originalUrl(req), rawHeaders: req.rawHeaders });
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
    deliver: (shown, log) => shown.deliver(res, log),
    status: () => res.statusCode,
  };
}

export function tlsServername(req: http.IncomingMessage): string | undefined {
  const s = (req.socket as TLSSocket).servername;
  return typeof s === 'string' && s.length > 0 ? s : undefined;
}

export function newConnectionId(): string {
  return randomUUID().slice(0, 8);
}

export type { PipelineDeps, RequestMetricsPort, Target } from '../pipeline/exchange.js';

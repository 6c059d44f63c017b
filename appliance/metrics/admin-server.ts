// The admin listener (config admin.listen, default 127.0.0.1:9464): Prometheus text at /metrics,
// liveness at /healthz, readiness at /readyz. Off the proxy port, so that the egress ruleset can
// keep the runner user away from it (systemd/airlock-egress.nft) while a scraper reaches it.
// It reads state and changes none; every socket has a timeout. Its refusals have the shape of
// every other Airlock refusal (errors.ts): JSON naming a stable code, and X-Airlock-Error.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { AirlockError, toErrorResponse } from '../errors.js';
import type { Logger } from '../log.js';
import type { AirlockMetrics } from './metrics.js';
import type { Readiness } from './readiness.js';

export interface AdminServer {
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

export interface AdminDeps {
  readonly metrics: AirlockMetrics;
  readonly ready: () => Promise<Readiness>;
  readonly log: Logger;
}

const TIMEOUT_MS = 10_000;

function send(res: http.ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function refuse(res: http.ServerResponse, err: AirlockError): void {
  const r = toErrorResponse(err);
  res.writeHead(r.status, r.headers);
  res.end(r.body);
}

function adminHandler(deps: AdminDeps): (req: http.IncomingMessage, res: http.ServerResponse) => void {
  return (req, res) => {
    req.resume();
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') return refuse(res, new AirlockError('ADMIN_METHOD', undefined, { headers: { allow: 'GET, HEAD' } }));
    const fail = (err: unknown): void => {
      deps.log.error({ err: { message: (err as Error).message } }, 'admin endpoint failed');
      if (!res.headersSent) refuse(res, new AirlockError('ADMIN_FAILED'));
    };
    switch (path) {
      case '/metrics':
        deps.metrics.text().then((t) => send(res, 200, deps.metrics.contentType, t), fail);
        return;
      case '/healthz':
        // Liveness: the event loop answers. Readiness says whether it should get traffic.
        return send(res, 200, 'application/json', '{"status":"ok"}\n');
      case '/readyz':
        deps.ready().then((r) => send(res, r.ready ? 200 : 503, 'application/json', `${JSON.stringify(r)}\n`), fail);
        return;
      default:
        return refuse(res, new AirlockError('ADMIN_NOT_FOUND'));
    }
  };
}

export async function startAdminServer(listen: { readonly host: string; readonly port: number }, deps: AdminDeps): Promise<AdminServer> {
  const server = http.createServer({ requestTimeout: TIMEOUT_MS, headersTimeout: TIMEOUT_MS, maxHeaderSize: 16 * 1024 }, adminHandler(deps));
  server.setTimeout(TIMEOUT_MS, (s) => s.destroy());
  server.maxHeadersCount = 50;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const a = server.address() as AddressInfo;
  return {
    host: a.address,
    port: a.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

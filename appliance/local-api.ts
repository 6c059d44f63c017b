import type http from 'node:http';
import { AirlockError } from './errors.js';
import { respondError } from './lib/respond-error.js';

/** One endpoint of the listener's own API (login, logout, ...), plugged in by server.ts. */
export interface LocalRoute {
  readonly method: string;
  readonly path: string;
  /** Reads the request itself (body included); a throw becomes Airlock's error answer. */
  handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void>;
}

/** The listener's API: the given routes, then the built-in ones (health, and the "I am a proxy" refusal). */
export function createLocalApi(routes: readonly LocalRoute[]): (req: http.IncomingMessage, res: http.ServerResponse) => void {
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const route = routes.find((r) => r.method === req.method && r.path === path);
    if (!route) {
      handleLocal(req, res);
      return;
    }
    route.handle(req, res).catch((err: unknown) => {
      req.resume();
      respondError(res, err);
    });
  };
}

/** Requests addressed to Airlock's listener itself rather than proxied through it. */
function handleLocal(req: http.IncomingMessage, res: http.ServerResponse): void {
  req.resume();
  const path = (req.url ?? '/').split('?')[0];
  if (req.method === 'GET' && path === '/.airlock/v1/health') {
    const body = JSON.stringify({ status: 'ok' });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
    return;
  }
  respondError(
    res,
    new AirlockError('BAD_REQUEST', `Airlock is a proxy: configure it as HTTPS_PROXY; ${req.method ?? 'GET'} ${path ?? '/'} is not one of its endpoints`),
  );
}

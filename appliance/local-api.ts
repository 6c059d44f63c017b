import type http from 'node:http';
import { AirlockError } from './errors.js';
import { respondError } from './proxy/respond-error.js';

/** Requests addressed to Airlock's listener itself rather than proxied through it. */
export function handleLocal(req: http.IncomingMessage, res: http.ServerResponse): void {
  req.resume();
  const path = (req.url ?? '/').split('?')[0];
  if (req.method === 'GET' && path === '/.airlock/v1/health') {
    const body = JSON.stringify({ status: 'ok' });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
    return;
  }
  respondError(res, new AirlockError('BAD_REQUEST', `Airlock is a proxy: configure it as HTTPS_PROXY; ${req.method ?? 'GET'} ${path ?? '/'} is not one of its endpoints`));
}

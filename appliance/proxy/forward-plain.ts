import http from 'node:http';
import { pipeline } from 'node:stream/promises';
import type { Logger } from '../log.js';
import { AirlockError } from '../errors.js';
import { endToEndHeaders } from './headers.js';
import type { Destination } from './resolve-destination.js';
import { respondError } from './respond-error.js';

/** Passthrough for plain-HTTP requests to hosts Airlock does not intercept: no identity, no record. */
export async function forwardPlain(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  dest: Destination,
  timeoutMs: number,
  log: Logger,
): Promise<void> {
  await new Promise<void>((resolve) => {
    const upReq = http.request({
      host: dest.address,
      port: dest.port,
      method: req.method,
      path: req.url,
      headers: endToEndHeaders(req.rawHeaders),
      timeout: timeoutMs,
      agent: false,
    });
    upReq.on('timeout', () => upReq.destroy(new Error('timeout')));
    upReq.on('error', (err: NodeJS.ErrnoException) => {
      respondError(res, new AirlockError('UPSTREAM_UNREACHABLE', `${dest.host}: ${err.code ?? 'error'}`));
      resolve();
    });
    upReq.on('response', (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, upRes.statusMessage ?? '', endToEndHeaders(upRes.rawHeaders));
      pipeline(upRes, res).then(resolve, () => resolve());
    });
    pipeline(req, upReq).catch(() => undefined);
  });
  log.info({ decision: 'passthrough', method: req.method, status: res.statusCode }, 'request');
}

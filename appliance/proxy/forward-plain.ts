import http from 'node:http';
import { pipeline } from 'node:stream/promises';
import type { Logger } from '../log.js';
import { AirlockError } from '../errors.js';
import { endToEndHeaders, setHeader } from '../lib/headers.js';
import { frameHeaders } from '../pipeline/frame-headers.js';
import { bodyFraming, type BodyFraming } from '../pipeline/canonical-request.js';
import type { Destination } from './resolve-destination.js';
import { respondError } from '../lib/respond-error.js';
import { logRequest, requestLine } from '../pipeline/request-log-line.js';

/** Passthrough for plain-HTTP requests to hosts Airlock does not intercept: no identity, no record. */
export async function forwardPlain(req: http.IncomingMessage, res: http.ServerResponse, dest: Destination, timeoutMs: number, log: Logger): Promise<void> {
  let framing: BodyFraming;
  try {
    framing = bodyFraming(req.rawHeaders);
  } catch (err) {
    req.resume();
    const status = respondError(res, err);
    const known = err instanceof AirlockError ? err : undefined;
    logRequest(
      log,
      requestLine({ method: req.method, host: dest.host, decision: 'refused', status, code: known?.code ?? 'BAD_REQUEST', reason: known?.detail }),
    );
    return;
  }
  // Framing and Host are Airlock's, set after the client's Connection nominations are applied:
  // Node sends a GET/DELETE body unframed otherwise, and the origin reads it as a second request.
  const head = frameHeaders(endToEndHeaders(req.rawHeaders), framing);
  const headers = req.headers.host === undefined ? head : setHeader(head, 'host', req.headers.host);
  await new Promise<void>((resolve) => {
    const upReq = http.request({
      host: dest.address,
      port: dest.port,
      method: req.method,
      path: originForm(req.url ?? '/'),
      headers,
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
  logRequest(log, requestLine({ method: req.method, host: dest.host, decision: 'passthrough', status: res.statusCode }));
}

/** The request target without its scheme and authority (userinfo included): origin servers get a path. */
function originForm(target: string): string {
  const m = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*/.exec(target);
  if (!m) return target;
  const rest = target.slice(m[0].length);
  return rest.startsWith('/') ? rest : `/${rest}`;
}

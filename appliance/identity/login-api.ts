// The listener's login endpoints: plain HTTP requests to the proxy itself (never proxied).
//   POST /.airlock/v1/login   Authorization: Bearer <CI JWT>, body {"bind": true}?  -> session token
//   POST /.airlock/v1/logout  Authorization: Bearer <session token>
//   GET  /.airlock/v1/whoami  Authorization: Bearer <session token>
//   GET  /.airlock/v1/ca      the CA certificate (PEM): a job's user may not read the state dir
import type http from 'node:http';
import { AirlockError } from '../errors.js';
import { readCapped } from '../lib/read-capped.js';
import type { LocalRoute } from '../local-api.js';
import { login, logout, whoami, type LoginDeps } from './login-service.js';
import { MAX_TOKEN_LENGTH } from './looks-like-jwt.js';
import { APP_KEY_FORMATS, type AppKeyFormat } from './stand-in-keys.js';

/** A login body is `{"bind": true, "appKeyFormat": "ddapp"}` at most. */
const MAX_BODY_BYTES = 4096;
const BODY_TIMEOUT_MS = 10_000;

function bearer(req: http.IncomingMessage): string {
  const v = req.headers.authorization ?? '';
  const m = /^\s*bearer\s+(\S+)\s*$/i.exec(v);
  if (!m || m[1]!.length > MAX_TOKEN_LENGTH) throw new AirlockError('TOKEN_MISSING', 'send the token as Authorization: Bearer <token>');
  return m[1]!;
}

async function readBody(req: http.IncomingMessage): Promise<string> {
  const r = await readCapped(req, MAX_BODY_BYTES, { timeoutMs: BODY_TIMEOUT_MS });
  if (r.ok) return r.bytes.toString('utf8');
  // Drain the rest, so that the refusal can still be answered on this connection.
  req.resume();
  if (r.why === 'too-large') throw new AirlockError('BODY_TOO_LARGE', `at most ${MAX_BODY_BYTES} bytes`);
  if (r.why === 'timeout') throw new AirlockError('BAD_REQUEST', 'the body did not arrive in time');
  throw new AirlockError('BAD_REQUEST', 'the request body could not be read');
}

function parseLoginBody(text: string): { bind: boolean; appKeyFormat?: AppKeyFormat } {
  if (text.trim() === '') return { bind: false };
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new AirlockError('BAD_REQUEST', 'the body must be JSON, e.g. {"bind": true}');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new AirlockError('BAD_REQUEST', 'the body must be a JSON object');
  const bind = (v as Record<string, unknown>)['bind'];
  if (bind !== undefined && typeof bind !== 'boolean') throw new AirlockError('BAD_REQUEST', '"bind" must be true or false');
  const fmt = (v as Record<string, unknown>)['appKeyFormat'];
  if (fmt !== undefined && !APP_KEY_FORMATS.includes(fmt as AppKeyFormat))
    throw new AirlockError('BAD_REQUEST', `"appKeyFormat" is ${APP_KEY_FORMATS.join(' or ')}`);
  return { bind: bind === true, ...(fmt !== undefined ? { appKeyFormat: fmt as AppKeyFormat } : {}) };
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  // A session token is in this answer: no cache may keep it.
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

export function loginRoutes(deps: LoginDeps, caCertPem: () => string): LocalRoute[] {
  return [
    {
      method: 'POST',
      path: '/.airlock/v1/login',
      async handle(req, res) {
        const jwt = bearer(req);
        const opts = parseLoginBody(await readBody(req));
        send(res, 200, await login(deps, jwt, opts));
      },
    },
    {
      method: 'POST',
      path: '/.airlock/v1/logout',
      async handle(req, res) {
        req.resume();
        send(res, 200, { loggedOut: true, ...(await logout(deps, bearer(req))) });
      },
    },
    {
      method: 'GET',
      path: '/.airlock/v1/whoami',
      async handle(req, res) {
        req.resume();
        send(res, 200, await whoami(deps, bearer(req)));
      },
    },
    {
      method: 'GET',
      path: '/.airlock/v1/ca',
      async handle(req, res) {
        req.resume();
        const pem = caCertPem();
        res.writeHead(200, { 'content-type': 'application/x-pem-file', 'content-length': Buffer.byteLength(pem) });
        res.end(pem);
      },
    },
  ];
}

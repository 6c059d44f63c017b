// `airlock console`: the approvers' web app. Routes:
//   GET  /                 the page (signed in) or a redirect to /auth/login
//   GET  /auth/login       starts OIDC (code + PKCE); GET /auth/callback finishes it
//   POST /auth/logout      ends the session (CSRF-checked)
//   GET  /api/me           who is signed in, and the session's CSRF token
//   GET  /api/events       server-sent events: the waiting holds and recent decisions
//   POST /api/holds/ID/approve|deny   a decision as the signed-in approver (Origin + CSRF header)
//   POST /slack/actions    Slack's interactivity callbacks (signed; slack-actions.ts)
import http from 'node:http';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../log.js';
import { AirlockError, isAirlockError } from '../errors.js';
import { respondError } from '../lib/respond-error.js';
import { readControlBody, parseControlJson } from '../control/read-control-body.js';
import type { RedisBus } from '../approvals/redis-bus.js';
import type { ConsoleConfig } from '../config/console-schema.js';
import { approverOf } from './approver.js';
import { ConsoleSessions, cookieOf, LOGIN_COOKIE, SESSION_COOKIE, sameToken, setCookie, type ConsoleSession } from './console-sessions.js';
import { OidcLogin } from './oidc-login.js';
import { HTML, CSS, SCRIPT } from './page.js';
import { decideOnBus } from './decide-on-bus.js';
import { LiveUpdates } from './live-updates.js';
import { slackActions } from './slack-actions.js';

const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  // same-origin, not no-referrer: under no-referrer Chromium sends `Origin: null` with the page's
  // own form posts (sign out), which the Origin check would refuse.
  'referrer-policy': 'same-origin',
  'cache-control': 'no-store',
  'cross-origin-opener-policy': 'same-origin',
};

export interface ConsoleDeps {
  readonly bus: RedisBus;
  readonly log: Logger;
  readonly now?: () => number;
}

export interface RunningConsole {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

function send(res: http.ServerResponse, status: number, type: string, body: string, headers: Record<string, string | string[]> = {}): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': type, 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

const json = (res: http.ServerResponse, status: number, body: unknown): void => send(res, status, 'application/json', JSON.stringify(body));

export async function startConsole(cfg: ConsoleConfig, deps: ConsoleDeps): Promise<RunningConsole> {
  const now = deps.now ?? Date.now;
  const sessions = new ConsoleSessions(cfg.sessionTtl, now);
  const login = new OidcLogin(cfg, now);
  const origin = new URL(cfg.publicUrl).origin;
  const live = new LiveUpdates(deps.bus, now, deps.log);
  const slack = cfg.slack ? slackActions(cfg.slack, cfg.approvers, deps.bus, deps.log, now) : null;

  const sessionOf = (req: http.IncomingMessage): ConsoleSession | undefined => sessions.get(cookieOf(req.headers.cookie, SESSION_COOKIE));
  const signedIn = (req: http.IncomingMessage): ConsoleSession => {
    const s = sessionOf(req);
    if (!s) throw new AirlockError('CONSOLE_AUTH');
    return s;
  };
  /** A state-changing request must come from the console's own page. */
  const checkCsrf = (req: http.IncomingMessage, s: ConsoleSession, formToken?: string): void => {
    const o = req.headers.origin;
    if (o !== undefined && o !== origin) throw new AirlockError('CONSOLE_CSRF', 'foreign Origin');
    if (o === undefined && req.headers['sec-fetch-site'] !== undefined && req.headers['sec-fetch-site'] !== 'same-origin')
      throw new AirlockError('CONSOLE_CSRF', 'cross-site request');
    const token = formToken ?? (typeof req.headers['x-airlock-csrf'] === 'string' ? req.headers['x-airlock-csrf'] : undefined);
    if (!sameToken(token, s.csrf)) throw new AirlockError('CONSOLE_CSRF', 'missing or wrong CSRF token');
  };

  async function route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', origin);
    const method = req.method ?? 'GET';
    const path = url.pathname;
    if (method === 'GET' && path === '/') {
      if (!sessionOf(req)) {
        send(res, 302, 'text/plain', 'sign in', { location: '/auth/login' });
        return;
      }
      send(res, 200, 'text/html; charset=utf-8', HTML);
      return;
    }
    if (method === 'GET' && path === '/app.js') {
      send(res, 200, 'text/javascript; charset=utf-8', SCRIPT);
      return;
    }
    if (method === 'GET' && path === '/app.css') {
      send(res, 200, 'text/css; charset=utf-8', CSS);
      return;
    }
    if (method === 'GET' && path === '/auth/login') {
      const { url: to, state } = await login.start().catch((err: unknown) => {
        deps.log.error({ err: { message: (err as Error).message }, issuer: cfg.oidc.issuer }, 'console: the OIDC provider cannot be reached');
        throw new AirlockError('CONSOLE_AUTH', 'the sign-in provider cannot be reached right now: retry in a moment');
      });
      send(res, 302, 'text/plain', 'to the sign-in page', { location: to, 'set-cookie': setCookie(LOGIN_COOKIE, state, 600) });
      return;
    }
    if (method === 'GET' && path === '/auth/callback') {
      let claims: Record<string, unknown>;
      try {
        ({ claims } = await login.finish(new URL(`${cfg.publicUrl}${path}${url.search}`), cookieOf(req.headers.cookie, LOGIN_COOKIE)));
      } catch (err) {
        deps.log.warn({ err: { message: (err as Error).message } }, 'console sign-in failed');
        throw new AirlockError('CONSOLE_AUTH', 'the sign-in could not be completed: start again');
      }
      const who = approverOf(claims, cfg.approvers);
      if (!who.ok) {
        deps.log.warn({ why: who.why }, 'console sign-in refused: not an approver');
        throw new AirlockError('APPROVER_NOT_ALLOWED', who.why);
      }
      const { id } = sessions.create(who.email, who.name);
      deps.log.info({ approver: who.email }, 'approver signed in to the console');
      send(res, 302, 'text/plain', 'signed in', {
        location: '/',
        'set-cookie': [setCookie(SESSION_COOKIE, id, cfg.sessionTtl / 1000), setCookie(LOGIN_COOKIE, '', 0)],
      });
      return;
    }
    if (method === 'POST' && path === '/auth/logout') {
      const s = signedIn(req);
      const form = new URLSearchParams((await readControlBody(req)).toString('utf8'));
      checkCsrf(req, s, form.get('csrf') ?? undefined);
      sessions.end(cookieOf(req.headers.cookie, SESSION_COOKIE));
      send(res, 303, 'text/plain', 'signed out', { location: '/signed-out', 'set-cookie': setCookie(SESSION_COOKIE, '', 0) });
      return;
    }
    if (method === 'GET' && path === '/signed-out') {
      send(res, 200, 'text/plain; charset=utf-8', 'Signed out of the Airlock console.');
      return;
    }
    if (method === 'GET' && path === '/api/me') {
      const s = signedIn(req);
      json(res, 200, { email: s.email, name: s.name ?? null, csrf: s.csrf });
      return;
    }
    if (method === 'GET' && path === '/api/events') {
      const s = signedIn(req);
      res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'text/event-stream', connection: 'keep-alive' });
      live.add(res, s.expiresAt);
      return;
    }
    const m = /^\/api\/holds\/([0-9a-f]{12})\/(approve|deny)$/.exec(path);
    if (method === 'POST' && m) {
      const s = signedIn(req);
      checkCsrf(req, s);
      const body = parseControlJson(await readControlBody(req));
      const words = typeof body['reason'] === 'string' ? body['reason'] : typeof body['note'] === 'string' ? body['note'] : '';
      const kind = m[2] === 'approve' ? 'approved' : 'denied';
      const r = await decideOnBus(deps.bus, m[1]!, kind, s.email, 'console', words, now);
      deps.log.info({ hold: m[1], decision: kind, approver: s.email }, 'decided in the console');
      live.kick();
      json(res, 200, r);
      return;
    }
    if (method === 'POST' && path === '/slack/actions') {
      if (!slack) throw new AirlockError('NOT_FOUND', 'console.slack is not configured');
      const body = await readControlBody(req, 64 * 1024);
      const answer = await slack(req.headers, body);
      live.kick();
      json(res, 200, answer);
      return;
    }
    throw new AirlockError('NOT_FOUND', `${method} ${path.slice(0, 100)} is not a console route`);
  }

  const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    route(req, res).catch((err: unknown) => {
      if (!isAirlockError(err)) deps.log.error({ err }, 'console request failed');
      if (!req.complete) req.resume();
      respondError(res, isAirlockError(err) ? err : new AirlockError('INTERNAL'));
    });
  };
  const opts = { maxHeaderSize: 16 * 1024, headersTimeout: 10_000, requestTimeout: 30_000, keepAliveTimeout: 5_000 };
  const server = cfg.tls
    ? https.createServer({ ...opts, cert: readFileSync(cfg.tls.certFile), key: readFileSync(cfg.tls.keyFile) }, handler)
    : http.createServer(opts, handler);
  server.maxConnections = 1_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(cfg.listen.port, cfg.listen.host, () => resolve());
  });
  await live.start();
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `${cfg.tls ? 'https' : 'http'}://${cfg.listen.host}:${port}`,
    close: async () => {
      live.stop();
      await new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      });
    },
  };
}

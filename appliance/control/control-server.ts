import http from 'node:http';
import { chmod, unlink } from 'node:fs/promises';
import type { Logger } from '../log.js';
import type { Approvals } from '../approvals/approval-queue.js';
import { approvalRoute, type ControlAnswer } from './approval-routes.js';
import { parseControlPath } from './parse-control-path.js';
import { readControlBody } from './read-control-body.js';
import { AirlockError, isAirlockError } from '../errors.js';
import { refuseConnect, respondError } from '../lib/respond-error.js';
import { openToGroup } from './open-to-group.js';
import { prepareSocketPath } from './prepare-socket-path.js';

/** What the control socket can ask of the running server. */
export interface ControlTarget {
  readonly sessions: {
    isOpen(id: string): boolean;
    close(id: string, reason: string): Promise<string | null>;
  };
  readonly log: Logger;
  readonly approvals?: Approvals;
  /** approvals.group: the socket becomes 0660 with this group, so its members can approve. */
  readonly group?: string | null;
  /** The shipping outbox: `airlock sessions flush` asks it to retry everything now. */
  readonly outbox?: { kick(): void };
  /** `airlock reload`: re-read the config and apply it (reload/reload-server.ts). */
  readonly reload?: () => { readonly ok: boolean; readonly changed: readonly string[]; readonly errors: readonly string[] };
}

export interface ControlServer {
  close(): Promise<void>;
}

const SESSION_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** A refused body is drained this long at most, so the client reads the answer before the close. */
const DRAIN_MS = 1_000;

function json(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Attacker-chosen text in a message: printable, short. */
function shown(s: string): string {
  return JSON.stringify(s.replace(/[^\x20-\x7e]/g, '?').slice(0, 128));
}

/** Routes one parsed request; every refusal is a thrown AirlockError. */
async function route(target: ControlTarget, method: string, path: readonly string[], body: Buffer): Promise<ControlAnswer> {
  if (path[0] !== 'v1') throw new AirlockError('NOT_FOUND');
  const rest = path.slice(1);
  const approval = await approvalRoute(target.approvals, method, rest, body);
  if (approval) return approval;
  if (method === 'POST' && rest.length === 2 && rest[0] === 'outbox' && rest[1] === 'flush') {
    target.outbox?.kick();
    return { status: 202, body: { kicked: target.outbox !== undefined } };
  }
  if (method === 'POST' && rest.length === 1 && rest[0] === 'reload' && target.reload) {
    // 200 either way: a refused config is an answer (what is wrong), not a failed call.
    return { status: 200, body: { ...target.reload() } };
  }
  if (method === 'POST' && rest.length === 3 && rest[0] === 'sessions' && rest[2] === 'close') {
    const id = rest[1]!;
    if (!SESSION_ID.test(id) || !target.sessions.isOpen(id)) throw new AirlockError('SESSION_NOT_OPEN', `no open session ${shown(id)}`);
    try {
      return { status: 200, body: { id, har: await target.sessions.close(id, 'closed by operator') } };
    } catch (err) {
      target.log.error({ err }, 'closing a session failed');
      throw new AirlockError('INTERNAL', 'closing the session failed');
    }
  }
  throw new AirlockError('NOT_FOUND', `${shown(method)} ${shown(`/${path.join('/')}`)} is not a control endpoint`);
}

/** Answers a refusal in Airlock's error shape; a refused body is not read further. */
function refuse(req: http.IncomingMessage, res: http.ServerResponse, err: unknown, log: Logger): void {
  if (!isAirlockError(err)) log.error({ err }, 'control request failed');
  if (!req.complete) {
    if (!res.headersSent) res.setHeader('connection', 'close');
    req.resume();
    setTimeout(() => req.socket.destroy(), DRAIN_MS).unref();
  }
  respondError(res, err);
}

/**
 * The CLI's way into a running server: HTTP over a Unix socket (control.socket, by default in the
 * state dir), reachable only by users who may open that file (0600: the service user and root;
 * 0660 with approvals.group, see open-to-group.ts). Every input is parsed
 * defensively: no request can throw past its handler, and each connection is bounded in head
 * size, body size and time.
 */
export async function startControlServer(path: string, target: ControlTarget): Promise<ControlServer> {
  await prepareSocketPath(path, target.group ?? null, target.log);
  const server = http.createServer(
    { maxHeaderSize: 8 * 1024, headersTimeout: 5_000, requestTimeout: 30_000, keepAliveTimeout: 5_000, connectionsCheckingInterval: 1_000 },
    (req, res) => {
      void (async () => {
        const path = parseControlPath(req.url);
        const body = await readControlBody(req);
        const answer = await route(target, req.method ?? '', path, body);
        json(res, answer.status, answer.body);
      })().catch((err: unknown) => refuse(req, res, err, target.log));
    },
  );
  // A head that llhttp rejects (garbage, oversized, bad framing) gets the same error shape.
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (err.code === 'ECONNRESET' || err.code === 'ERR_HTTP_REQUEST_TIMEOUT' || !socket.writable) {
      socket.destroy();
      return;
    }
    const detail = err.code === 'HPE_HEADER_OVERFLOW' ? 'the request head exceeds 8 KiB' : 'malformed HTTP request';
    refuseConnect(socket, new AirlockError('BAD_REQUEST', detail));
    setTimeout(() => socket.destroy(), DRAIN_MS).unref();
  });
  // Idle sockets close; a flood of connections from one local user is capped.
  server.setTimeout(30_000);
  server.maxConnections = 256;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  });
  await chmod(path, 0o600);
  if (target.group) await openToGroup(path, target.group, target.log);
  return {
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }).then(() => unlink(path).catch(() => undefined)),
  };
}

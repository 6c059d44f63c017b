import http from 'node:http';
import { chmod, chown, unlink } from 'node:fs/promises';
import type { Logger } from '../log.js';
import type { ApprovalQueue } from '../approvals/approval-queue.js';
import { approvalRoutes } from './approval-routes.js';
import { groupId } from '../approvals/group-id.js';

/** What the control socket can ask of the running server. */
export interface ControlTarget {
  readonly sessions: {
    isOpen(id: string): boolean;
    close(id: string, reason: string): Promise<string | null>;
  };
  readonly log: Logger;
  readonly approvals?: ApprovalQueue;
  /** approvals.group: the socket becomes 0660 with this group, so its members can approve. */
  readonly group?: string | null;
  /** The shipping outbox: `airlock sessions flush` asks it to retry everything now. */
  readonly outbox?: { kick(): void };
}

export interface ControlServer {
  close(): Promise<void>;
}

const SESSION_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

function json(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/**
 * The CLI's way into a running server: HTTP over a Unix socket in the state dir, reachable only
 * by users who may open that file (0600: the service user and root).
 */
export async function startControlServer(path: string, target: ControlTarget): Promise<ControlServer> {
  await unlink(path).catch(() => undefined);
  const server = http.createServer((req, res) => {
    if (approvalRoutes(target.approvals, req, res)) return;
    req.resume();
    if (req.method === 'POST' && req.url === '/v1/outbox/flush') {
      target.outbox?.kick();
      json(res, 202, { kicked: target.outbox !== undefined });
      return;
    }
    const m = /^\/v1\/sessions\/([^/]+)\/close$/.exec(req.url ?? '');
    if (req.method === 'POST' && m) {
      const id = decodeURIComponent(m[1]!);
      if (!SESSION_ID.test(id) || !target.sessions.isOpen(id)) {
        json(res, 404, { error: 'SESSION_NOT_OPEN', message: `no open session ${id} in this server` });
        return;
      }
      target.sessions.close(id, 'closed by operator').then(
        (har) => json(res, 200, { id, har }),
        (err: unknown) => {
          target.log.error({ err }, 'closing a session failed');
          json(res, 500, { error: 'CLOSE_FAILED', message: (err as Error).message });
        },
      );
      return;
    }
    json(res, 404, { error: 'NOT_FOUND', message: 'unknown control endpoint' });
  });
  server.headersTimeout = 5_000;
  server.requestTimeout = 30_000;
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

/** 0660 with the group's id; left 0600 (closed) when the group is unknown or chown is refused. */
async function openToGroup(path: string, group: string, log: Logger): Promise<void> {
  const gid = await groupId(group);
  if (gid === null) {
    log.error({ group }, 'approvals.group does not exist: the control socket stays 0600 (only its owner can approve)');
    return;
  }
  try {
    await chown(path, -1, gid);
    await chmod(path, 0o660);
  } catch (err) {
    log.error({ group, code: (err as NodeJS.ErrnoException).code }, 'could not give the control socket to approvals.group: it stays 0600');
  }
}

// Control-socket endpoints for approval holds. Who may call them is decided by the socket file's
// permissions (0660, group approvals.group); the decider's name is the OS user name the CLI
// reports. Node cannot read SO_PEERCRED, so the name is trusted the way the filesystem
// permission is: anyone who can open the socket is allowed to approve (see README).
import type http from 'node:http';
import type { ApprovalQueue, DecideResult } from '../approvals/approval-queue.js';

const ID = /^[0-9a-f]{12}$/;
const MAX_BODY = 16 * 1024;

function json(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function readJson(req: http.IncomingMessage): Promise<Record<string, unknown> | null> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        resolve(null);
        req.destroy();
      } else chunks.push(c);
    });
    req.on('error', () => resolve(null));
    req.on('end', () => {
      try {
        const v = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as unknown;
        resolve(v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null);
      } catch {
        resolve(null);
      }
    });
  });
}

function text(v: unknown, max: number): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v.slice(0, max) : undefined;
}

/** Handles /v1/approvals*; false when the path is not one of these. */
export function approvalRoutes(queue: ApprovalQueue | undefined, req: http.IncomingMessage, res: http.ServerResponse): boolean {
  const url = req.url ?? '';
  if (!url.startsWith('/v1/approvals')) return false;
  if (!queue) {
    req.resume();
    json(res, 404, { error: 'NOT_FOUND', message: 'approvals are not available in this server' });
    return true;
  }
  if (req.method === 'GET' && url === '/v1/approvals') {
    req.resume();
    json(res, 200, { pending: queue.list() });
    return true;
  }
  const m = /^\/v1\/approvals\/([^/]+)\/(approve|deny)$/.exec(url);
  if (req.method !== 'POST' || !m) {
    req.resume();
    json(res, 404, { error: 'NOT_FOUND', message: 'unknown approvals endpoint' });
    return true;
  }
  const id = m[1]!;
  const verb = m[2]!;
  void readJson(req).then((body) => {
    const by = text(body?.['by'], 64);
    if (!body || !by || !/^[A-Za-z0-9_][A-Za-z0-9_.@-]*$/.test(by)) {
      json(res, 400, { error: 'BAD_REQUEST', message: 'send {"by": "<os user>", "note"?: "..."}' });
      return;
    }
    const words = text(body['note'] ?? body['reason'], 500);
    const r: DecideResult = !ID.test(id) ? { ok: false } : verb === 'approve' ? queue.approve(id, by, words) : queue.deny(id, by, words);
    if (!r.ok) {
      json(res, 404, { error: 'HOLD_NOT_FOUND', message: `no pending hold ${id} (decided already, timed out, or the server restarted)` });
      return;
    }
    json(res, 200, { id, outcome: r.outcome.kind, method: r.held.method, url: r.held.url });
  });
  return true;
}

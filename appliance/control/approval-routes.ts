// Control-socket endpoints for approval holds. Who may call them is decided by the socket file's
// permissions (0660, group approvals.group); the decider's name is the OS user name the CLI
// reports. Node cannot read SO_PEERCRED, so the name is trusted the way the filesystem
// permission is: anyone who can open the socket is allowed to approve (see docs/policies-approvals-masking.md, Approval holds).
import type { Approvals, DecideResult } from '../approvals/approval-queue.js';
import { AirlockError } from '../errors.js';
import { parseControlJson } from './read-control-body.js';
import { cutText } from '../approvals/cut-text.js';

const ID = /^[0-9a-f]{12}$/;
const DECIDER = /^[A-Za-z0-9_][A-Za-z0-9_.@-]{0,63}$/;

export interface ControlAnswer {
  readonly status: number;
  readonly body: unknown;
}

function text(v: unknown, max: number): string | undefined {
  return typeof v === 'string' && v.length > 0 ? cutText(v, max) : undefined;
}

/**
 * /v1/approvals and /v1/approvals/ID/(approve|deny), given the parsed path after `v1`;
 * null when the path is not under approvals. Refusals are thrown as AirlockErrors.
 */
export async function approvalRoute(queue: Approvals | undefined, method: string, rest: readonly string[], body: Buffer): Promise<ControlAnswer | null> {
  if (rest[0] !== 'approvals') return null;
  if (!queue) throw new AirlockError('NOT_FOUND', 'approvals are not available in this server');
  if (rest.length === 1 && method === 'GET') return { status: 200, body: { pending: await queue.list() } };
  const [, id, verb] = rest;
  if (rest.length !== 3 || method !== 'POST' || (verb !== 'approve' && verb !== 'deny') || id === undefined) {
    throw new AirlockError('NOT_FOUND', 'the approvals endpoints are GET /v1/approvals and POST /v1/approvals/ID/approve|deny');
  }
  const json = parseControlJson(body);
  const by = text(json['by'], 64);
  if (!by || !DECIDER.test(by)) throw new AirlockError('BAD_REQUEST', 'send {"by": "<os user>", "note"?: "..."}');
  const words = text(json['note'] ?? json['reason'], 500);
  const r: DecideResult = !ID.test(id)
    ? { ok: false }
    : verb === 'approve'
      ? await queue.approve(id, by, words, 'socket')
      : await queue.deny(id, by, words, 'socket');
  if (!r.ok && r.why === 'expired')
    throw new AirlockError('HOLD_EXPIRED', `hold ${id} ${r.detail ?? 'timed out before this decision'}: the request was refused`);
  if (!r.ok && r.why === 'decided') throw new AirlockError('HOLD_DECIDED', `hold ${id} was already decided: ${r.detail ?? ''}`);
  if (!r.ok) throw new AirlockError('HOLD_NOT_FOUND', `no pending hold ${JSON.stringify(id.replace(/[^\x20-\x7e]/g, '?').slice(0, 40))}`);
  return { status: 200, body: { id, outcome: r.outcome.kind, method: r.held.method, url: r.held.url } };
}

import { userInfo } from 'node:os';
import { callControl, type ControlReply } from '../control/control-client.js';
import { load, CliError, controlSocket, type CommonArgs } from './context.js';
import { table } from './table.js';
import { busCommands } from './approvals-bus.js';

/** The decider: the OS user running this command (the server trusts the socket's permissions for who may). */
function osUser(): string {
  return userInfo().username;
}

async function call(args: CommonArgs, method: string, path: string, body?: unknown): Promise<ControlReply> {
  const { config } = load(args);
  const socket = controlSocket(config);
  let reply: ControlReply | null;
  try {
    reply = await callControl(socket, method, path, 15_000, body);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM') {
      throw new CliError(
        'APPROVAL_FORBIDDEN',
        `${osUser()} may not use the control socket ${socket} (permission denied): only members of approvals.group can list or decide holds; an operator adds you with usermod -aG <group> ${osUser()}`,
      );
    }
    throw err;
  }
  if (!reply)
    throw new CliError(
      'NO_SERVER',
      `no airlock server is running here (nothing listens on ${socket}; set AIRLOCK_CONTROL_SOCKET or control.socket if it lives elsewhere)`,
    );
  return reply;
}

export interface Pending {
  id: string;
  session: string;
  sub: string;
  grant: string;
  method: string;
  url: string;
  bodyPreview: string;
  ageSeconds: number;
}

export async function approvalsLsCommand(args: CommonArgs & { json?: boolean; 'token-file'?: string }): Promise<string> {
  const viaBus = await busCommands(args);
  let pending: Pending[];
  if (viaBus) {
    pending = await viaBus.ls();
  } else {
    const r = await call(args, 'GET', '/v1/approvals');
    if (r.status !== 200) throw new CliError(r.code ?? 'CONTROL_FAILED', r.message ?? `server answered ${r.status}`);
    pending = (Array.isArray(r.body['pending']) ? r.body['pending'] : []) as Pending[];
  }
  if (args.json) return JSON.stringify(pending, null, 2);
  if (pending.length === 0) return 'no requests are waiting for approval';
  return table(
    ['ID', 'AGE', 'SUB', 'GRANT', 'REQUEST', 'BODY'],
    pending.map((p) => [p.id, `${p.ageSeconds}s`, p.sub, p.grant, `${p.method} ${p.url}`, p.bodyPreview.replace(/\s+/g, ' ').slice(0, 60)]),
  );
}

async function decideCommand(args: CommonArgs & { id: string; 'token-file'?: string }, verb: 'approve' | 'deny', words: string | undefined): Promise<string> {
  const viaBus = await busCommands(args);
  if (viaBus) return viaBus.decide(args.id, verb, words ?? '');
  const r = await call(args, 'POST', `/v1/approvals/${encodeURIComponent(args.id)}/${verb}`, { by: osUser(), ...(words ? { note: words } : {}) });
  if (r.status !== 200) throw new CliError(r.code ?? 'CONTROL_FAILED', r.message ?? `server answered ${r.status}`);
  return `${verb === 'approve' ? 'approved' : 'denied'} ${args.id}: ${String(r.body['method'])} ${String(r.body['url'])} (by ${osUser()})`;
}

export function approvalsApproveCommand(args: CommonArgs & { id: string; note?: string }): Promise<string> {
  return decideCommand(args, 'approve', args.note);
}

export function approvalsDenyCommand(args: CommonArgs & { id: string; reason?: string }): Promise<string> {
  return decideCommand(args, 'deny', args.reason);
}

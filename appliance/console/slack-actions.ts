// Slack's interactivity callbacks (the Approve/Deny buttons of slack-message.ts): verified with
// the app's signing secret, mapped to an approver through console.slack.users (Slack user id ->
// email, which console.approvers must allow); an unknown user is refused.
import { readFileSync } from 'node:fs';
import type http from 'node:http';
import type { Logger } from '../log.js';
import { AirlockError } from '../errors.js';
import type { RedisBus } from '../approvals/redis-bus.js';
import type { ConsoleConfig } from '../config/console-schema.js';
import { approverOf } from './approver.js';
import { decideOnBus } from './decide-on-bus.js';
import { ReplayCache, verifySlack } from './slack-signature.js';

type SlackConfig = NonNullable<ConsoleConfig['slack']>;

interface Payload {
  type?: unknown;
  user?: { id?: unknown };
  actions?: { action_id?: unknown; value?: unknown }[];
}

export function slackActions(cfg: SlackConfig, approvers: ConsoleConfig['approvers'], bus: RedisBus, log: Logger, now: () => number) {
  const secret = readFileSync(cfg.signingSecretFile, 'utf8').trim();
  const replays = new ReplayCache();
  return async (headers: http.IncomingHttpHeaders, body: Buffer): Promise<Record<string, unknown>> => {
    const h = (n: string): string | undefined => (typeof headers[n] === 'string' ? headers[n] : undefined);
    const v = verifySlack(secret, h('x-slack-request-timestamp'), h('x-slack-signature'), body, now(), cfg.replayWindow, replays);
    if (!v.ok) {
      log.warn({ why: v.why }, 'slack callback refused');
      throw new AirlockError('SLACK_SIGNATURE', v.why);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(new URLSearchParams(body.toString('utf8')).get('payload') ?? '');
    } catch {
      throw new AirlockError('BAD_REQUEST', 'no JSON payload= field');
    }
    if (typeof parsed !== 'object' || parsed === null) throw new AirlockError('BAD_REQUEST', 'the payload is not a JSON object');
    const p = parsed as Payload;
    const action = Array.isArray(p.actions) && typeof p.actions[0] === 'object' && p.actions[0] !== null ? p.actions[0] : undefined;
    const verb = action?.action_id === 'airlock_approve' ? 'approved' : action?.action_id === 'airlock_deny' ? 'denied' : null;
    if (p.type !== 'block_actions' || !verb || typeof action?.value !== 'string') throw new AirlockError('BAD_REQUEST', 'not an Airlock button');
    const user = typeof p.user === 'object' && p.user !== null ? p.user : {};
    const userId = typeof user.id === 'string' ? user.id : '';
    const email = Object.hasOwn(cfg.users, userId) ? cfg.users[userId] : undefined;
    // Group membership is not something Slack tells: a Slack approver is allowed by email.
    const who = email
      ? approverOf({ email, email_verified: true }, { ...approvers, groups: [] })
      : { ok: false as const, why: `Slack user ${userId.slice(0, 24)} is not mapped in console.slack.users` };
    if (!who.ok) {
      log.warn({ why: who.why }, 'slack callback refused: not an approver');
      throw new AirlockError('APPROVER_NOT_ALLOWED', who.why);
    }
    const id = action.value;
    if (!/^[0-9a-f]{12}$/.test(id)) throw new AirlockError('HOLD_NOT_FOUND');
    const r = await decideOnBus(bus, id, verb, who.email, 'slack', verb === 'denied' ? `denied in Slack by ${who.email}` : '', now);
    log.info({ hold: id, decision: verb, approver: who.email }, 'decided in Slack');
    return { response_type: 'in_channel', replace_original: false, text: `${r.method} ${r.url} was ${verb} by ${who.email}` };
  };
}

// The Slack-compatible interactive message for a hold: context, then Approve/Deny buttons whose
// `value` is the hold id. Slack posts the clicks to the app's Interactivity URL, which is the
// console's /slack/actions (console/slack-actions.ts verifies and decides).
import type { HeldRequest } from './approval-queue.js';
import { cutText } from './cut-text.js';

/** Slack's mrkdwn treats these as markup: shown text from the agent's request is escaped. */
function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function slackHoldMessage(id: string, r: HeldRequest, text: string, timeoutSeconds?: number): Record<string, unknown> {
  const rule = r.rule as { reason?: unknown; policy?: unknown; rule?: unknown } | undefined;
  const fields = [
    `*Request*\n\`${cutText(esc(`${r.method} ${r.url}`), 300)}\``,
    `*Who*\n${esc(r.sub)} (grant ${esc(r.grant)})`,
    // eslint-disable-next-line @typescript-eslint/no-base-to-string -- shows whatever the hold recorded, object or not
    `*Rule*\n${esc(String(rule?.reason ?? `${String(rule?.policy ?? '?')} #${String(rule?.rule ?? '?')}`))}`,
    ...(timeoutSeconds !== undefined ? [`*Decide within*\n${timeoutSeconds}s`] : []),
  ];
  return {
    text,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: esc(text) } },
      { type: 'section', fields: fields.map((f) => ({ type: 'mrkdwn', text: f })) },
      ...(r.bodyPreview ? [{ type: 'section', text: { type: 'mrkdwn', text: `\`\`\`${cutText(esc(r.bodyPreview), 500)}\`\`\`` } }] : []),
      {
        type: 'actions',
        block_id: `airlock-hold-${id}`,
        elements: [
          { type: 'button', action_id: 'airlock_approve', text: { type: 'plain_text', text: 'Approve' }, style: 'primary', value: id },
          { type: 'button', action_id: 'airlock_deny', text: { type: 'plain_text', text: 'Deny' }, style: 'danger', value: id },
        ],
      },
    ],
  };
}

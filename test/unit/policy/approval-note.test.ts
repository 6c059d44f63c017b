// A decider's note is cut at 500 UTF-16 units: never through an emoji's surrogate pair.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApprovalQueue } from '../../../appliance/approvals/approval-queue.js';
import { cutText } from '../../../appliance/approvals/cut-text.js';
import { slackHoldMessage } from '../../../appliance/approvals/slack-message.js';
import { approvalRoute } from '../../../appliance/control/approval-routes.js';

const held = { session: 's', sub: 'repo:x', grant: 'g', method: 'DELETE', url: 'https://api.datadoghq.com/api/v1/dashboard/a', bodyPreview: '', rule: {} };
const EMOJI = '\u{1F600}';

/** No lone surrogate, and UTF-8 there and back gives the same string. */
function assertWellFormed(s: string): void {
  assert.equal(Buffer.from(s, 'utf8').toString('utf8'), s, 'a lone surrogate does not survive UTF-8');
}

async function noteAfter(verb: 'approve' | 'deny', body: string): Promise<string | undefined> {
  const q = new ApprovalQueue(60_000);
  const h = q.hold(held);
  await approvalRoute(q, 'POST', ['approvals', h.id, verb], Buffer.from(body));
  const o = await h.outcome;
  assert.ok(o.kind === 'approved' || o.kind === 'denied', o.kind);
  return o.approval.note;
}

test('an emoji across the 500th unit of a note is dropped whole, not cut in half', async () => {
  const note = await noteAfter('approve', JSON.stringify({ by: 'alice', note: `${'a'.repeat(499)}${EMOJI}tail` }));
  assert.equal(note, 'a'.repeat(499));
  assertWellFormed(note);
});

test('an emoji that ends exactly at the cap is kept', async () => {
  assert.equal(await noteAfter('deny', JSON.stringify({ by: 'alice', reason: `${'a'.repeat(498)}${EMOJI}tail` })), `${'a'.repeat(498)}${EMOJI}`);
});

test('a lone surrogate sent as a JSON escape becomes U+FFFD', async () => {
  const note = await noteAfter('approve', '{"by":"alice","note":"ok \\ud83d then \\ude00"}');
  assert.equal(note, 'ok \uFFFD then \uFFFD');
});

test('cutText counts UTF-16 units, keeps pairs whole and short text as it is', () => {
  assert.equal(cutText(`ab${EMOJI}`, 3), 'ab');
  assert.equal(cutText(`ab${EMOJI}`, 4), `ab${EMOJI}`);
  assert.equal(cutText(`${EMOJI}${EMOJI}`, 1), '');
  assert.equal(cutText('plain', 500), 'plain');
});

test('the Slack message cuts the request line and body preview on a code-point boundary', () => {
  const url = `https://api.datadoghq.com/${'x'.repeat(300 - 'DELETE https://api.datadoghq.com/'.length - 1)}${EMOJI}`;
  const msg = slackHoldMessage('0123456789ab', { ...held, url, bodyPreview: `${'b'.repeat(499)}${EMOJI}` }, 'held');
  const blocks = msg['blocks'] as [unknown, { fields: { text: string }[] }, { text: { text: string } }];
  const request = blocks[1].fields[0]!.text;
  const preview = blocks[2].text.text;
  assertWellFormed(request);
  assertWellFormed(preview);
  assert.ok(request.endsWith('x`'), request.slice(-10));
  assert.equal(preview, `\`\`\`${'b'.repeat(499)}\`\`\``);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReplayCache, slackSignature, verifySlack } from '../../../appliance/console/slack-signature.js';
import { approverOf } from '../../../appliance/console/approver.js';

const SECRET = '8f742231b10e8888abcd99yyyzzz85a5';

test("Slack's documented example signature is reproduced and accepted once; a replay, a changed body and a stale timestamp are refused", () => {
  // The example from Slack's "Verifying requests from Slack" page.
  const body = Buffer.from(
    'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c',
  );
  const ts = '1531420618';
  const sig = slackSignature(SECRET, ts, body);
  assert.equal(sig, 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503');
  const now = 1531420618_000 + 30_000;
  const cache = new ReplayCache();
  assert.deepEqual(verifySlack(SECRET, ts, sig, body, now, 300_000, cache), { ok: true });
  assert.deepEqual(verifySlack(SECRET, ts, sig, body, now, 300_000, cache), { ok: false, why: 'replayed callback' });
  assert.deepEqual(verifySlack(SECRET, ts, sig, Buffer.concat([body, Buffer.from('&x=1')]), now, 300_000, new ReplayCache()), {
    ok: false,
    why: 'signature mismatch',
  });
  assert.deepEqual(verifySlack(SECRET, ts, sig, body, now + 600_000, 300_000, new ReplayCache()), { ok: false, why: 'timestamp outside the replay window' });
  assert.equal(verifySlack(SECRET, undefined, sig, body, now, 300_000, new ReplayCache()).ok, false);
  assert.equal(verifySlack(SECRET, ts, 'v0=00', body, now, 300_000, new ReplayCache()).ok, false);
});

test('an approver is a verified email on the list or a member of a listed group; anything else is refused', () => {
  const rules = { emails: ['Bob@Example.com'], groups: ['sre'], groupsClaim: 'groups' };
  assert.deepEqual(approverOf({ email: 'bob@example.com' }, rules), { ok: true, email: 'bob@example.com' });
  assert.deepEqual(approverOf({ email: 'alice@example.com', groups: ['eng', 'sre'], name: 'Alice' }, rules), {
    ok: true,
    email: 'alice@example.com',
    name: 'Alice',
  });
  assert.equal(approverOf({ email: 'carol@example.com', groups: ['eng'] }, rules).ok, false);
  assert.equal(approverOf({ email: 'bob@example.com', email_verified: false }, rules).ok, false, 'an unverified address names nobody');
  assert.equal(approverOf({ groups: ['sre'] }, rules).ok, false, 'no email, no approver');
  assert.equal(approverOf({ email: 'alice@example.com', groups: 'sre' }, rules).ok, true, 'a single group as a string');
});

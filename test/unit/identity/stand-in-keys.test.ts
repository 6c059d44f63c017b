// Stand-in DD_API_KEY / DD_APP_KEY from `airlock login`: Datadog's shapes, mapped to the job's
// session, never taken for an agent's real key and never the other way round.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { SessionTokens } from '../../../appliance/identity/session-tokens.js';
import { findToken } from '../../../appliance/identity/carriers.js';
import { looksLikeStandIn, newStandInApiKey, newStandInAppKey } from '../../../appliance/identity/stand-in-keys.js';
import { findKeyShapes } from '../../../appliance/secrets/key-shape.js';
import { stripAgentCredentials } from '../../../appliance/credentials/strip-agent-credentials.js';
import { isAirlockError } from '../../../appliance/errors.js';
import { codeOf, withStore } from '../../fixtures/session-tokens-store.js';

const identity = { issuer: 'gh', iss: 'https://iss', sub: 'repo:a/b', claims: { run_id: '1' }, grant: 'g', credential: 'c' };
const req = (over: Partial<Parameters<SessionTokens['issue']>[0]> = {}) => ({
  identity,
  key: 'k1',
  iss: 'https://iss',
  jti: 'j1',
  jtiUntil: 1_300_000,
  bind: false,
  ...over,
});

test('stand-ins have Datadog key shapes: 32 lowercase hex, 40 lowercase hex, or ddapp_ and 34 letters/digits, and differ every time', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 200; i++) {
    const a = newStandInApiKey();
    const h = newStandInAppKey('hex');
    const d = newStandInAppKey('ddapp');
    assert.match(a, /^[0-9a-f]{32}$/);
    assert.match(h, /^[0-9a-f]{40}$/);
    assert.match(d, /^ddapp_[A-Za-z0-9]{34}$/);
    for (const v of [a, h, d]) {
      assert.ok(looksLikeStandIn(v));
      assert.ok(!seen.has(v));
      seen.add(v);
    }
  }
  assert.ok(!looksLikeStandIn('alk_' + 'a'.repeat(43)));
  assert.ok(!looksLikeStandIn('A'.repeat(32)), 'upper-case hex is no stand-in');
  assert.ok(!looksLikeStandIn('a'.repeat(64)));
});

test('the key-shape redaction on main finds every stand-in shape (so a stand-in is redacted wherever it is recorded)', () => {
  const a = newStandInApiKey();
  const h = newStandInAppKey('hex');
  const d = newStandInAppKey('ddapp');
  assert.deepEqual(findKeyShapes(`{"k":"${a}","h":"${h}","d":"${d}"}`), [a, h, d]);
});

test('login issues both stand-ins mapped to the session; only their hashes are stored; they resolve after a reload and die with logout', async () => {
  await withStore(async (s, _clock, file, reopen) => {
    const i = await s.issue(req());
    assert.match(i.apiKey, /^[0-9a-f]{32}$/);
    assert.match(i.appKey, /^[0-9a-f]{40}$/);
    const text = readFileSync(file, 'utf8');
    for (const v of [i.token, i.apiKey, i.appKey]) assert.ok(!text.includes(v), 'no value in the state file');
    const session = s.sessionOf(i.token);
    assert.ok(session);
    assert.equal(s.sessionOf(i.apiKey), session);
    assert.equal(s.sessionOf(i.appKey), session);
    assert.equal(s.lookup(i.apiKey).key, 'k1');
    const again = await reopen();
    assert.equal(again.sessionOf(i.appKey), session);
    assert.equal(again.lookup(i.appKey).identity.sub, 'repo:a/b');
    await again.revoke(i.apiKey);
    assert.equal(again.sessionOf(i.token), null);
    assert.equal(again.sessionOf(i.appKey), null);
    assert.equal(
      codeOf(() => again.lookup(i.apiKey)),
      'TOKEN_INVALID',
    );
  });
});

test('a ddapp_-shaped stand-in app key is issued on request and works like the hex one', async () => {
  await withStore(async (s) => {
    const i = await s.issue(req({ appKeyFormat: 'ddapp' }));
    assert.match(i.appKey, /^ddapp_[A-Za-z0-9]{34}$/);
    assert.equal(s.sessionOf(i.appKey), s.sessionOf(i.token));
  });
});

test('an expired stand-in is TOKEN_EXPIRED, not an agent key', async () => {
  await withStore(async (s, clock) => {
    const i = await s.issue(req());
    clock.t += 61_000;
    assert.equal(
      codeOf(() => s.lookup(i.apiKey)),
      'TOKEN_EXPIRED',
    );
    assert.ok(s.sessionOf(i.apiKey), 'still known, so still a token');
  });
});

test('carriers: a stand-in in DD-API-KEY is the token; a key-shaped value this Airlock never issued is an agent key and is stripped', async () => {
  await withStore(async (s) => {
    const i = await s.issue(req());
    const sessionOf = (v: string): string | null => s.sessionOf(v);
    assert.deepEqual(findToken({ rawHeaders: ['DD-API-KEY', i.apiKey], sessionOf }), { token: i.apiKey, carriers: ['header:dd-api-key'] });
    const real = newStandInApiKey();
    assert.equal(findToken({ rawHeaders: ['DD-API-KEY', real], sessionOf }), null, 'an unknown 32-hex key is not a token');
    assert.equal(findToken({ rawHeaders: ['DD-API-KEY', i.apiKey] }), null, 'without the login state nothing key-shaped is a token');
    const stripped = stripAgentCredentials({ path: '/api/v2/x', rawHeaders: ['DD-API-KEY', real, 'Host', 'x'] });
    assert.deepEqual(stripped.rawHeaders, ['Host', 'x']);
    assert.ok(stripped.removedValues.includes(real));
  });
});

test('carriers: the alk_ token in the proxy URL and both stand-ins in the headers are one identity, not "two different tokens"', async () => {
  await withStore(async (s) => {
    const i = await s.issue(req());
    const other = await s.issue(req({ jti: 'j2', key: 'k2' }));
    const sessionOf = (v: string): string | null => s.sessionOf(v);
    const basic = `Basic ${Buffer.from(`airlock:${i.token}`).toString('base64')}`;
    const f = findToken({ proxyAuthorization: basic, rawHeaders: ['DD-API-KEY', i.apiKey, 'DD-APPLICATION-KEY', i.appKey], sessionOf });
    assert.equal(f?.token, i.token);
    assert.deepEqual(f?.carriers, ['proxy-authorization', 'header:dd-api-key', 'header:dd-application-key']);
    // Another job's stand-in beside this job's token is a conflict, as two JWTs are.
    assert.throws(
      () => findToken({ proxyAuthorization: basic, rawHeaders: ['DD-API-KEY', other.apiKey], sessionOf }),
      (err: unknown) => isAirlockError(err) && err.code === 'TOKEN_INVALID' && !err.message.includes(other.apiKey),
    );
  });
});

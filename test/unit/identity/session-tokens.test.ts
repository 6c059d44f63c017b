import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { MAX_ISSUED_LENGTH, SessionTokens } from '../../../appliance/identity/session-tokens.js';
import { newSessionToken } from '../../../appliance/identity/session-token.js';
import { APP_KEY_FORMATS, newStandInApiKey, newStandInAppKey } from '../../../appliance/identity/stand-in-keys.js';
import { findToken } from '../../../appliance/identity/carriers.js';
import { isAirlockError } from '../../../appliance/errors.js';
import { codeOf as code, withStore } from '../../fixtures/session-tokens-store.js';

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

test('a token is alk_ + 43 base64url chars, resolves to its record, and only its hash is in the 0600 file', async () => {
  await withStore(async (s, _c, file) => {
    const { token } = await s.issue(req());
    assert.match(token, /^alk_[A-Za-z0-9_-]{43}$/);
    assert.equal(s.lookup(token).identity.sub, 'repo:a/b');
    assert.ok(!readFileSync(file, 'utf8').includes(token));
    assert.equal(statSync(file).mode & 0o777, 0o600);
  });
});

test('a jti is exchanged once, also after a reload, until the JWT expires', async () => {
  await withStore(async (s, clock, _f, reopen) => {
    await s.issue(req());
    await assert.rejects(s.issue(req()), (e: unknown) => isAirlockError(e) && e.code === 'TOKEN_INVALID');
    const again = await reopen();
    await assert.rejects(again.issue(req()), (e: unknown) => isAirlockError(e) && e.code === 'TOKEN_INVALID');
    clock.t = 1_300_001;
    await again.issue(req());
  });
});

test('an expired token is TOKEN_EXPIRED; an unknown or revoked one TOKEN_INVALID', async () => {
  await withStore(async (s, clock) => {
    const { token } = await s.issue(req());
    const second = await s.issue(req({ jti: 'j2' }));
    await s.revoke(second.token);
    assert.equal(
      code(() => s.lookup(token)),
      'TOKEN_INVALID',
      'logout ends every token of the session',
    );
    const third = await s.issue(req({ jti: 'j3', key: 'k2' }));
    clock.t += 60_000;
    assert.equal(
      code(() => s.lookup(third.token)),
      'TOKEN_EXPIRED',
    );
    assert.equal(
      code(() => s.lookup('alk_' + 'A'.repeat(43))),
      'TOKEN_INVALID',
    );
  });
});

test('one binding at a time: another job is refused with BIND_CONFLICT until logout or expiry; the same job may rebind', async () => {
  await withStore(async (s, clock) => {
    const a = await s.issue(req({ bind: true }));
    assert.equal(s.bound()?.key, 'k1');
    await assert.rejects(s.issue(req({ jti: 'j2', key: 'k2', bind: true })), (e: unknown) => isAirlockError(e) && e.code === 'BIND_CONFLICT');
    await s.issue(req({ jti: 'j3', bind: true }));
    await s.revoke(a.token);
    assert.equal(s.bound(), null);
    await s.issue(req({ jti: 'j4', key: 'k2', bind: true }));
    clock.t += 60_000;
    assert.equal(s.bound(), null, 'an expired binding attributes nothing');
    await s.issue(req({ jti: 'j5', key: 'k3', bind: true, jtiUntil: clock.t + 1 }));
  });
});

test('a damaged state file stops the load instead of forgetting every exchanged jti', async () => {
  await withStore(async (_s, _c, file, reopen) => {
    writeFileSync(file, '{not json');
    await assert.rejects(reopen(), /not JSON/);
  });
});

test('a session token is found in every carrier the core accepts', () => {
  const t = 'alk_' + 'x'.repeat(43);
  const basic = `Basic ${Buffer.from(`airlock:${t}`).toString('base64')}`;
  assert.equal(findToken({ proxyAuthorization: basic })?.token, t);
  assert.equal(findToken({ proxyAuthorization: `Bearer ${t}` })?.token, t);
  for (const h of ['DD-API-KEY', 'DD-APPLICATION-KEY']) assert.equal(findToken({ rawHeaders: [h, t] })?.token, t);
  assert.equal(findToken({ rawHeaders: ['Authorization', `Bearer ${t}`] })?.token, t);
  assert.equal(findToken({ rawHeaders: ['DD-API-KEY', 'alk_short'] }), null, 'a malformed alk_ value in DD-API-KEY is an agent key, stripped');
});

test('TOKEN_INVALID for a session token says whether it was logged out or is unknown', async () => {
  await withStore(async (s) => {
    const { token } = await s.issue(req());
    await s.revoke(token);
    const detail = (t: string): string => {
      try {
        s.lookup(t);
      } catch (err) {
        return isAirlockError(err) ? `${err.code}: ${err.detail ?? ''}` : 'OTHER';
      }
      return 'NONE';
    };
    assert.match(detail(token), /^TOKEN_INVALID: this session token was logged out \(airlock logout\)/);
    assert.match(detail(`alk_${'A'.repeat(43)}`), /^TOKEN_INVALID: unknown session token: this Airlock never issued it/);
  });
});

test('every value Airlock issues fits MAX_ISSUED_LENGTH, under which sessionOf looks values up (longer ones, JWTs, are not hashed)', () => {
  for (let i = 0; i < 50; i++) {
    const issued = [newSessionToken(), newStandInApiKey(), ...APP_KEY_FORMATS.map((f) => newStandInAppKey(f))];
    for (const v of issued) assert.ok(v.length <= MAX_ISSUED_LENGTH, `${v.length} characters`);
  }
});

// A reload that changes the issuers or grants starts from an empty verdict cache: a token
// verified under the old config is judged by the new one at its next use, not served from memory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../../appliance/config/load-config.js';
import { isAirlockError } from '../../../appliance/errors.js';
import { LiveConfig } from '../../../appliance/reload/live-config.js';
import type { Guard } from '../../../appliance/policy/guard.js';
import type { SessionTokens } from '../../../appliance/identity/session-tokens.js';
import { Clock, FakeIssuer, ISS, captureLog } from './fake-issuer.js';

function configWith(ref: string, audience = 'airlock') {
  return parseConfig({
    listen: '127.0.0.1:0',
    stateDir: '/nonexistent-airlock-state',
    identity: {
      issuers: [{ name: 'gh', issuer: ISS, audience, algorithms: ['RS256'] }],
      grants: [{ name: 'main', issuer: 'gh', claims: { repository_id: '123456', ref }, credential: 'dd-prod' }],
    },
  });
}

async function setup() {
  const clock = new Clock();
  const issuer = await FakeIssuer.create(clock);
  const { log } = captureLog();
  // parts.jwt (the JWT resolver) is all this test uses: the guard and the session tokens are
  // only handed through by LiveConfig, so empty stand-ins do.
  const live = new LiveConfig(configWith('refs/heads/main'), {} as Guard, {
    tokens: {} as SessionTokens,
    resolverDeps: { fetchJson: issuer.fetchJson, now: clock.now, log },
  });
  const token = await issuer.mint({ exp: Math.floor(clock.t / 1000) + 3600 });
  assert.equal((await live.parts.jwt.resolve(token)).grant, 'main');
  return { live, token };
}

test('a reload that changes the grants judges a cached token by the new grants', async () => {
  const { live, token } = await setup();
  const r = live.apply(configWith('refs/heads/release'));
  assert.equal(r.ok, true, r.errors.join('; '));
  await assert.rejects(
    async () => live.parts.jwt.resolve(token),
    (err: unknown) => isAirlockError(err) && err.code === 'NO_GRANT',
  );
});

test('a reload that changes an issuer judges a cached token by the new issuer config', async () => {
  const { live, token } = await setup();
  const r = live.apply(configWith('refs/heads/main', 'another-audience'));
  assert.equal(r.ok, true, r.errors.join('; '));
  await assert.rejects(
    async () => live.parts.jwt.resolve(token),
    (err: unknown) => isAirlockError(err) && err.code === 'TOKEN_INVALID' && /audience/.test(err.message),
  );
});

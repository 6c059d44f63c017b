import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isAirlockError } from '../../../appliance/errors.js';
import { JWKS_MAX_AGE_MS } from '../../../appliance/identity/jwks-cache.js';
import { IdentityResolver, type IdentityRules } from '../../../appliance/identity/resolve-identity.js';
import { Clock, FakeIssuer, ISS, captureLog, issuerConfig, newKey } from './fake-issuer.js';
import { VERDICT_MAX_AGE_MS } from '../../../appliance/identity/verdict-cache.js';

const identityConfig: IdentityRules = {
  issuers: [issuerConfig()],
  grants: [
    { name: 'main-only', issuer: 'gh', claims: { repository_id: '123456', ref: 'refs/heads/main' }, credential: 'dd-prod' },
    { name: 'any-branch', issuer: 'gh', claims: { repository_id: '123456', ref: 'glob:refs/heads/*' }, credential: 'dd-staging' },
  ],
};

async function setup() {
  const clock = new Clock();
  const issuer = await FakeIssuer.create(clock);
  const { log, lines } = captureLog();
  const resolver = new IdentityResolver(identityConfig, { fetchJson: issuer.fetchJson, now: clock.now, log });
  return { clock, issuer, resolver, lines };
}

test('a verified token resolves to the first matching grant', async () => {
  const { clock, issuer, resolver } = await setup();
  const id = await resolver.resolve(await issuer.mint());
  assert.equal(id.issuer, 'gh');
  assert.equal(id.iss, ISS);
  assert.equal(id.sub, 'repo:acme/app:ref:refs/heads/main');
  assert.equal(id.grant, 'main-only');
  assert.equal(id.credential, 'dd-prod');
  assert.equal(id.claims['run_id'], '1001');
  assert.equal(id.expiresAt, (Math.floor(clock.t / 1000) + 300) * 1000);
  const other = await resolver.resolve(await issuer.mint({ ref: 'refs/heads/dev' }));
  assert.equal(other.grant, 'any-branch');
});

test('a verified token no grant matches is refused with NO_GRANT naming issuer and sub', async () => {
  const { issuer, resolver } = await setup();
  const token = await issuer.mint({ repository_id: '999', sub: 'repo:evil/app:ref:refs/heads/main' });
  await assert.rejects(
    async () => resolver.resolve(token),
    (err: unknown) => {
      assert.ok(isAirlockError(err));
      assert.equal(err.code, 'NO_GRANT');
      assert.match(err.detail ?? '', /"gh".*repo:evil\/app/);
      assert.ok(!err.message.includes(token));
      return true;
    },
  );
});

test('a cached identity is served without verifying again', async () => {
  const { clock, issuer, resolver } = await setup();
  const long = { exp: Math.floor(clock.t / 1000) + 3600 };
  const token = await issuer.mint(long);
  const first = await resolver.resolve(token);
  const fetches = issuer.calls.length;
  // Stale keys and a dead endpoint: any re-verification would fetch (and log); a cache hit does neither.
  clock.advance(JWKS_MAX_AGE_MS + 1);
  issuer.down = true;
  const again = await resolver.resolve(token);
  assert.equal(again, first);
  assert.equal(issuer.calls.length, fetches, 'no key fetch on a cache hit');
  // Control: a different token does re-verify and so tries to refresh the stale keys.
  await resolver.resolve(await issuer.mint(long));
  assert.ok(issuer.calls.length > fetches, 'a new token verifies and tries a refresh');
});

test('the cached identity expires with the token', async () => {
  const { clock, issuer, resolver } = await setup();
  const token = await issuer.mint();
  await resolver.resolve(token);
  clock.advance(300_000 + 61_000);
  await assert.rejects(
    async () => resolver.resolve(token),
    (err: unknown) => isAirlockError(err) && err.code === 'TOKEN_INVALID' && /expired/.test(err.message),
  );
});

test('failures are not cached', async () => {
  const { issuer, resolver } = await setup();
  issuer.down = true;
  const token = await issuer.mint();
  await assert.rejects(
    async () => resolver.resolve(token),
    (err: unknown) => isAirlockError(err) && err.code === 'ISSUER_UNAVAILABLE',
  );
  issuer.down = false;
  assert.equal((await resolver.resolve(token)).grant, 'main-only');
});

test('no log line holds the token', async () => {
  const { clock, issuer, resolver, lines } = await setup();
  const token = await issuer.mint();
  await resolver.resolve(token);
  issuer.down = true;
  clock.advance(JWKS_MAX_AGE_MS + 1);
  const token2 = await issuer.mint({ exp: Math.floor(clock.t / 1000) + 300 });
  await resolver.resolve(token2);
  assert.ok(lines().length > 0);
  assert.ok(!lines().some((l) => l.includes(token) || l.includes(token2)));
});

test('a cached identity is verified again once the issuer publishes different keys, and refused when its key is gone', async () => {
  const { clock, issuer, resolver } = await setup();
  const long = { exp: Math.floor(clock.t / 1000) + 3600 };
  const token = await issuer.mint(long);
  await resolver.resolve(token);
  // The issuer withdraws the key. Another token, verified after the keys went stale, makes the
  // resolver refresh them; from then on the first token's verdict no longer holds.
  const next = await newKey();
  issuer.published = [next];
  clock.advance(JWKS_MAX_AGE_MS + 1);
  await resolver.resolve(await issuer.mint(long, next));
  await assert.rejects(
    async () => resolver.resolve(token),
    (err: unknown) => isAirlockError(err) && err.code === 'TOKEN_INVALID',
  );
});

test('unchanged keys keep the verdict: a refresh that brings the same keys verifies nothing again', async () => {
  const { clock, issuer, resolver } = await setup();
  const long = { exp: Math.floor(clock.t / 1000) + 3600 };
  const token = await issuer.mint(long);
  const first = await resolver.resolve(token);
  clock.advance(JWKS_MAX_AGE_MS + 1);
  await resolver.resolve(await issuer.mint(long));
  issuer.down = true;
  assert.equal(await resolver.resolve(token), first, 'served from the cache');
});

test('a verdict is not kept past VERDICT_MAX_AGE_MS, so withdrawn keys are noticed even when every token is cached', async () => {
  const { clock, issuer, resolver } = await setup();
  const token = await issuer.mint({ exp: Math.floor(clock.t / 1000) + 24 * 3600 });
  await resolver.resolve(token);
  issuer.published = [await newKey()];
  clock.advance(VERDICT_MAX_AGE_MS);
  await assert.rejects(
    async () => resolver.resolve(token),
    (err: unknown) => isAirlockError(err) && err.code === 'TOKEN_INVALID',
  );
});

test('a cached verdict is answered at once, not in a promise; an expired one is not reused but verified again, and refused', async () => {
  const { clock, issuer, resolver } = await setup();
  const token = await issuer.mint();
  const verifying = resolver.resolve(token);
  assert.ok(verifying instanceof Promise, 'a first token is verified');
  const first = await verifying;
  const again = resolver.resolve(token);
  assert.ok(!(again instanceof Promise), 'a cached verdict needs no turn of the event loop');
  assert.equal(again, first);
  clock.advance(300_000 + 61_000);
  const late = resolver.resolve(token);
  assert.ok(late instanceof Promise, 'past exp the verdict is gone: verified again');
  await assert.rejects(late, (err: unknown) => isAirlockError(err) && err.code === 'TOKEN_INVALID' && /expired/.test(err.message));
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SignJWT } from 'jose';
import { AirlockError, isAirlockError } from '../../../appliance/errors.js';
import { JwksCache, JWKS_COOLDOWN_MS, JWKS_MAX_AGE_MS } from '../../../appliance/identity/jwks-cache.js';
import { TokenVerifier } from '../../../appliance/identity/verify-token.js';
import type { IssuerConfig } from '../../../appliance/config/schema.js';
import { Clock, FakeIssuer, ISS, captureLog, issuerConfig, newKey } from './fake-issuer.js';

async function setup(cfg: IssuerConfig = issuerConfig(), clockSkewMs?: number) {
  const clock = new Clock();
  const issuer = await FakeIssuer.create(clock);
  const { log, lines } = captureLog();
  const keys = new JwksCache({ fetchJson: issuer.fetchJson, now: clock.now, log });
  const verifier = new TokenVerifier([cfg], { keys, now: clock.now, ...(clockSkewMs !== undefined ? { clockSkewMs } : {}) });
  return { clock, issuer, verifier, lines };
}

async function refused(p: Promise<unknown>, detail: RegExp, token?: string, code = 'TOKEN_INVALID'): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(isAirlockError(err), `expected AirlockError, got ${String(err)}`);
    assert.equal(err.code, code);
    assert.match(err.detail ?? '', detail);
    if (token) assert.ok(!err.message.includes(token) && !err.message.includes(token.split('.')[2]!), 'the error holds the token');
    return true;
  });
}

test('a good token verifies and its claims come back', async () => {
  const { issuer, verifier } = await setup();
  const v = await verifier.verify(await issuer.mint());
  assert.equal(v.issuer.name, 'gh');
  assert.equal(v.claims.sub, 'repo:acme/app:ref:refs/heads/main');
  assert.equal(v.claims['repository'], 'acme/app');
  assert.deepEqual(issuer.calls, [`${ISS}/.well-known/openid-configuration`, `${ISS}/jwks`]);
});

test('a configured jwksUri skips discovery', async () => {
  const { issuer, verifier } = await setup(issuerConfig({ jwksUri: `${ISS}/jwks` }));
  await verifier.verify(await issuer.mint());
  assert.deepEqual(issuer.calls, [`${ISS}/jwks`]);
});

test('a token expired beyond the 60 s tolerance is refused with TOKEN_INVALID', async () => {
  const { clock, issuer, verifier } = await setup();
  const now = Math.floor(clock.t / 1000);
  const token = await issuer.mint({ iat: now - 400, exp: now - 61 });
  await refused(verifier.verify(token), /expired/, token);
});

test('a token expired within the 60 s tolerance is accepted', async () => {
  const { clock, issuer, verifier } = await setup();
  const now = Math.floor(clock.t / 1000);
  const v = await verifier.verify(await issuer.mint({ iat: now - 400, exp: now - 50 }));
  assert.equal(v.claims.exp, now - 50);
});

test('a token for another audience is refused with TOKEN_INVALID', async () => {
  const { issuer, verifier } = await setup();
  const token = await issuer.mint({ aud: 'https://github.com/acme' });
  await refused(verifier.verify(token), /wrong audience/, token);
});

test('a wrong audience names the expected and the received audience; the message no longer blames every token alike', async () => {
  const { issuer, verifier } = await setup();
  const token = await issuer.mint({ aud: 'https://github.com/acme' });
  await assert.rejects(verifier.verify(token), (err: unknown) => {
    assert.ok(isAirlockError(err));
    assert.match(err.detail ?? '', /^wrong audience: expected "airlock", the token has "https:\/\/github\.com\/acme": mint the token with audience "airlock"$/);
    assert.doesNotMatch(err.message, /mint a fresh OIDC token with the audience Airlock expects/);
    return true;
  });
});

test('a bad signature and an expiry say which check failed, the expiry with its time', async () => {
  const { issuer, verifier, clock } = await setup();
  await refused(verifier.verify(await issuer.mint({}, await newKey(issuer.key.kid))), /^bad signature: the token was not signed by a key of issuer "gh"/);
  const now = Math.floor(clock.now() / 1000);
  await refused(
    verifier.verify(await issuer.mint({ iat: now - 600, exp: now - 300 })),
    new RegExp(`^the token has expired \\(at ${new Date((now - 300) * 1000).toISOString().replace(/\./g, '\\.')}, 300 s ago`),
  );
});

test('a token without an audience is refused with TOKEN_INVALID', async () => {
  const { issuer, verifier } = await setup();
  await refused(verifier.verify(await issuer.mint({}, issuer.key, ['aud'])), /wrong audience|"aud"/);
});

test('a token from an unknown issuer is refused without fetching anything', async () => {
  const { issuer, verifier } = await setup();
  await refused(verifier.verify(await issuer.mint({ iss: 'https://evil.example' })), /unknown issuer "https:\/\/evil.example"/);
  await refused(verifier.verify(await issuer.mint({ iss: `${ISS}/` })), /unknown issuer/);
  assert.equal(issuer.calls.length, 0);
});

test('a token without exp is refused with TOKEN_INVALID', async () => {
  const { issuer, verifier } = await setup();
  await refused(verifier.verify(await issuer.mint({}, issuer.key, ['exp'])), /no "exp" claim/);
});

test('a token without iat is refused with TOKEN_INVALID', async () => {
  const { issuer, verifier } = await setup();
  await refused(verifier.verify(await issuer.mint({}, issuer.key, ['iat'])), /no "iat" claim/);
});

test('a token that is not valid yet (nbf beyond tolerance) is refused', async () => {
  const { clock, issuer, verifier } = await setup();
  await refused(verifier.verify(await issuer.mint({ nbf: Math.floor(clock.t / 1000) + 120 })), /not valid yet/);
});

test('a token issued more than the 60 s skew in the future is refused with TOKEN_INVALID, saying by how much', async () => {
  const { clock, issuer, verifier } = await setup();
  const now = Math.floor(clock.t / 1000);
  const token = await issuer.mint({ iat: now + 3_600, nbf: now - 5, exp: now + 3_900 });
  await refused(verifier.verify(token), /issued in the future \(iat is 3600 s ahead.*clockSkew 60 s/, token);
});

test('a token issued 59 s in the future is accepted', async () => {
  const { clock, issuer, verifier } = await setup();
  const now = Math.floor(clock.t / 1000);
  const v = await verifier.verify(await issuer.mint({ iat: now + 59, nbf: now - 5, exp: now + 300 }));
  assert.equal(v.claims.iat, now + 59);
});

test('a configured clock skew applies to iat, nbf and exp alike', async () => {
  const { clock, issuer, verifier } = await setup(issuerConfig(), 5_000);
  const now = Math.floor(clock.t / 1000);
  await refused(verifier.verify(await issuer.mint({ iat: now + 10, nbf: now - 5, exp: now + 300 })), /iat is 10 s ahead.*clockSkew 5 s/);
  await refused(verifier.verify(await issuer.mint({ iat: now - 5, nbf: now + 10, exp: now + 300 })), /not valid yet \(nbf is 10 s ahead.*clockSkew 5 s/);
  await refused(verifier.verify(await issuer.mint({ iat: now - 400, exp: now - 10 })), /expired \(at [0-9T:.-]+Z, 10 s ago.*clockSkew 5 s/);
  const v = await verifier.verify(await issuer.mint({ iat: now + 4, nbf: now + 4, exp: now - 4 + 300 }));
  assert.equal(v.claims.iat, now + 4);
});

test('an alg none token is refused with TOKEN_INVALID', async () => {
  const { issuer, verifier } = await setup();
  const b = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');
  const token = `${b({ alg: 'none', typ: 'JWT' })}.${b(issuer.claims())}.`;
  await refused(verifier.verify(token), /algorithm is not allowed/);
  assert.equal(issuer.calls.length, 0, 'refused before any key fetch');
});

test('an HS256 token signed with the RSA public key is refused with TOKEN_INVALID', async () => {
  const { issuer, verifier } = await setup();
  const token = await new SignJWT(issuer.claims()).setProtectedHeader({ alg: 'HS256', kid: issuer.key.kid }).sign(new TextEncoder().encode(issuer.key.pem));
  await refused(verifier.verify(token), /algorithm is not allowed/, token);
});

test('an HMAC algorithm in the config is never used', async () => {
  const cfg = { ...issuerConfig(), algorithms: ['HS256'] } as unknown as IssuerConfig; // the schema forbids this; the guard must hold anyway
  const { issuer, verifier } = await setup(cfg);
  const token = await new SignJWT(issuer.claims()).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(issuer.key.pem));
  await refused(verifier.verify(token), /no asymmetric algorithm/);
});

test('a token signed by a key the issuer does not publish is refused as bad signature', async () => {
  const { issuer, verifier } = await setup();
  const stranger = await newKey(issuer.key.kid);
  await refused(verifier.verify(await issuer.mint({}, stranger)), /bad signature/);
});

test('a malformed token is refused with TOKEN_INVALID', async () => {
  const { verifier } = await setup();
  await refused(verifier.verify('eyJhbGciOiJSUzI1NiJ9.bm90IGpzb24.c2ln'), /malformed/);
  await refused(verifier.verify('nope'), /malformed/);
});

test('an unknown kid triggers one refetch, then the cooldown holds further refetches', async () => {
  const { clock, issuer, verifier } = await setup();
  await verifier.verify(await issuer.mint());
  assert.equal(issuer.jwksFetches, 1);

  clock.advance(JWKS_COOLDOWN_MS + 1);
  const rotated = await newKey();
  issuer.published = [rotated];
  await verifier.verify(await issuer.mint({}, rotated));
  assert.equal(issuer.jwksFetches, 2, 'the unknown kid caused a refetch');

  clock.advance(1_000);
  const unknown = await newKey();
  await refused(verifier.verify(await issuer.mint({}, unknown)), /matches the token's kid/);
  await refused(verifier.verify(await issuer.mint({}, unknown)), /matches the token's kid/);
  assert.equal(issuer.jwksFetches, 2, 'within the cooldown nothing is refetched');

  clock.advance(JWKS_COOLDOWN_MS);
  await refused(verifier.verify(await issuer.mint({}, unknown)), /matches the token's kid/);
  assert.equal(issuer.jwksFetches, 3, 'after the cooldown one more refetch');
});

test('a JWKS outage after a successful fetch still verifies from the cached keys and logs a warning', async () => {
  const { clock, issuer, verifier, lines } = await setup();
  await verifier.verify(await issuer.mint());
  issuer.down = true;
  clock.advance(JWKS_MAX_AGE_MS + 1);
  const token = await issuer.mint();
  const v = await verifier.verify(token);
  assert.equal(v.claims.sub, 'repo:acme/app:ref:refs/heads/main');
  assert.ok(issuer.calls.length > 2, 'a refresh was attempted');
  const warn = lines().find((l) => l.includes('"level":40'));
  assert.ok(warn && /cached/.test(warn), 'a warning was logged');
  assert.ok(!lines().some((l) => l.includes(token)), 'no token in the log');

  const attempts = issuer.calls.length;
  clock.advance(1_000);
  await verifier.verify(await issuer.mint());
  assert.equal(issuer.calls.length, attempts, 'a failed refresh is not retried within the cooldown');

  issuer.down = false;
  clock.advance(JWKS_COOLDOWN_MS);
  await verifier.verify(await issuer.mint());
  assert.ok(issuer.jwksFetches >= 2, 'refreshes again once the endpoint is back');
});

test('a first-ever key fetch failure is ISSUER_UNAVAILABLE (503), not a TOKEN_INVALID that blames the job', async () => {
  const { issuer, verifier } = await setup();
  issuer.down = true;
  await refused(verifier.verify(await issuer.mint()), /cannot fetch the signing keys of issuer "gh"/, undefined, 'ISSUER_UNAVAILABLE');
  await assert.rejects(verifier.verify(await issuer.mint()), { status: 503 });
  issuer.down = false;
  const v = await verifier.verify(await issuer.mint());
  assert.equal(v.issuer.name, 'gh', 'verification works once the issuer is back');
});

test('a JWKS of bad shape counts as a fetch failure', async () => {
  const clock = new Clock();
  const issuer = await FakeIssuer.create(clock);
  const { log } = captureLog();
  for (const doc of [{ nope: 1 }, { keys: [] }, { keys: [{ kty: 'oct', k: 'c2VjcmV0', kid: issuer.key.kid }] }, 'text']) {
    const keys = new JwksCache({ fetchJson: async () => doc, now: clock.now, log });
    const verifier = new TokenVerifier([issuerConfig({ jwksUri: `${ISS}/jwks` })], { keys, now: clock.now });
    await refused(verifier.verify(await issuer.mint()), /cannot fetch the signing keys/, undefined, 'ISSUER_UNAVAILABLE');
  }
});

test('a discovery document naming another issuer is a fetch failure', async () => {
  const clock = new Clock();
  const issuer = await FakeIssuer.create(clock);
  const { log } = captureLog();
  const keys = new JwksCache({ fetchJson: async () => ({ issuer: 'https://evil', jwks_uri: `${ISS}/jwks` }), now: clock.now, log });
  const verifier = new TokenVerifier([issuerConfig()], { keys, now: clock.now });
  await refused(verifier.verify(await issuer.mint()), /cannot fetch the signing keys/, undefined, 'ISSUER_UNAVAILABLE');
});

test('concurrent first verifications share one key fetch', async () => {
  const { issuer, verifier } = await setup();
  const tokens = await Promise.all([1, 2, 3, 4].map(() => issuer.mint()));
  await Promise.all(tokens.map((t) => verifier.verify(t)));
  assert.equal(issuer.jwksFetches, 1);
});

test('the error class is AirlockError', async () => {
  const { verifier } = await setup();
  await assert.rejects(verifier.verify('x'), AirlockError);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import forge from 'node-forge';
import type { AddressInfo } from 'node:net';
import { isAirlockError } from '../../appliance/errors.js';
import { createLogger } from '../../appliance/log.js';
import { fetchJson, FetchJsonError } from '../../appliance/identity/fetch-json.js';
import { JWKS_COOLDOWN_MS, JWKS_MAX_AGE_MS } from '../../appliance/identity/jwks-cache.js';
import { IdentityResolver, type IdentityRules } from '../../appliance/identity/resolve-identity.js';
import { startIssuer, type Issuer } from '../fixtures/oidc-issuer.js';

const log = createLogger({ level: 'silent' });

function resolverFor(issuer: Issuer, offset: { ms: number }): IdentityResolver {
  const config: IdentityRules = {
    issuers: [{ name: 'gh', issuer: issuer.url, kind: 'generic', preset: null, audience: 'airlock', jwksUri: null, algorithms: ['RS256'] }],
    grants: [{ name: 'app', issuer: 'gh', claims: { repository_id: '123456' }, credential: 'dd' }],
  };
  return new IdentityResolver(config, { fetchJson, now: () => Date.now() + offset.ms, log });
}

async function withIssuer(fn: (issuer: Issuer) => Promise<void>): Promise<void> {
  const issuer = await startIssuer();
  try {
    await fn(issuer);
  } finally {
    await issuer.close();
  }
}

test('a token from the fixture issuer resolves via discovery and one JWKS fetch', () =>
  withIssuer(async (issuer) => {
    const resolver = resolverFor(issuer, { ms: 0 });
    const id = await resolver.resolve(await issuer.mint());
    assert.equal(id.grant, 'app');
    assert.equal(id.iss, issuer.url);
    assert.equal(issuer.discoveryFetches, 1);
    assert.equal(issuer.jwksFetches, 1);
    await resolver.resolve(await issuer.mint());
    assert.equal(issuer.jwksFetches, 1, 'keys are cached');
  }));

test('a key rotation is picked up through the unknown kid after the cooldown', () =>
  withIssuer(async (issuer) => {
    const offset = { ms: 0 };
    const resolver = resolverFor(issuer, offset);
    await resolver.resolve(await issuer.mint());
    const oldKid = issuer.kid;
    await issuer.rotate();
    assert.notEqual(issuer.kid, oldKid);
    offset.ms = JWKS_COOLDOWN_MS + 1_000;
    const id = await resolver.resolve(await issuer.mint());
    assert.equal(id.grant, 'app');
    assert.equal(issuer.jwksFetches, 2);
  }));

test('an issuer outage is served from the cached keys', () =>
  withIssuer(async (issuer) => {
    const offset = { ms: 0 };
    const resolver = resolverFor(issuer, offset);
    await resolver.resolve(await issuer.mint());
    issuer.setDown(true);
    offset.ms = JWKS_MAX_AGE_MS + 1_000;
    // The token must be valid at the shifted clock.
    const token = await issuer.mint({ exp: Math.floor((Date.now() + offset.ms) / 1000) + 300 });
    assert.equal((await resolver.resolve(token)).grant, 'app');
    assert.ok(issuer.jwksFetches + issuer.discoveryFetches >= 3, 'a refresh was attempted against the down issuer');
  }));

test('an issuer that is down on first use refuses with 503 ISSUER_UNAVAILABLE', () =>
  withIssuer(async (issuer) => {
    issuer.setDown(true);
    const resolver = resolverFor(issuer, { ms: 0 });
    await assert.rejects(
      async () => resolver.resolve(await issuer.mint()),
      (err: unknown) => isAirlockError(err) && err.code === 'ISSUER_UNAVAILABLE' && err.status === 503 && /cannot fetch the signing keys/.test(err.message),
    );
  }));

test('fixture attack tokens are refused over real HTTP', () =>
  withIssuer(async (issuer) => {
    const resolver = resolverFor(issuer, { ms: 0 });
    for (const token of [
      issuer.mintNone(),
      await issuer.mintHs256WithPublicKey(),
      await issuer.mint({}, { expiresIn: -120 }),
      await issuer.mint({}, { audience: 'other' }),
      await issuer.mint({}, { omit: ['iat'] }),
    ]) {
      await assert.rejects(
        async () => resolver.resolve(token),
        (err: unknown) => isAirlockError(err) && err.code === 'TOKEN_INVALID',
      );
    }
  }));

// A throwaway server answering each path as told; closed by the caller.
async function serve(handler: http.RequestListener): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

test('fetchJson returns parsed JSON and refuses 5xx, bad JSON, redirects, oversize bodies and slow servers', async () => {
  const s = await serve((req, res) => {
    if (req.url === '/ok') return res.end('{"a":1}');
    if (req.url === '/503') return res.writeHead(503).end('{}');
    if (req.url === '/bad') return res.end('{nope');
    if (req.url === '/redirect') return res.writeHead(302, { location: '/ok' }).end();
    if (req.url === '/big') return res.end(`"${'x'.repeat(2_000)}"`);
    if (req.url === '/slow') return; // never answers; fetchJson's timeout must end it
    res.writeHead(404).end();
  });
  try {
    assert.deepEqual(await fetchJson(`${s.url}/ok`), { a: 1 });
    const fails = async (path: string, re: RegExp, opts = {}): Promise<void> => {
      await assert.rejects(fetchJson(`${s.url}${path}`, opts), (err: unknown) => err instanceof FetchJsonError && re.test(err.message));
    };
    await fails('/503', /HTTP 503/);
    await fails('/bad', /did not answer JSON/);
    await fails('/redirect', /HTTP 302/);
    await fails('/big', /exceeds 1000 bytes/, { maxBytes: 1_000 });
    await fails('/slow', /timed out after 200 ms/, { timeoutMs: 200 });
    await assert.rejects(fetchJson('file:///etc/passwd'), FetchJsonError);
  } finally {
    await s.close();
  }
});

test('fetchJson ignores HTTP_PROXY and goes direct', async () => {
  const saved = { HTTP_PROXY: process.env['HTTP_PROXY'], http_proxy: process.env['http_proxy'] };
  const s = await serve((_req, res) => res.end('{"direct":true}'));
  process.env['HTTP_PROXY'] = 'http://127.0.0.1:1';
  process.env['http_proxy'] = 'http://127.0.0.1:1';
  try {
    assert.deepEqual(await fetchJson(`${s.url}/x`), { direct: true });
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    await s.close();
  }
});

function selfSignedCert(): { key: string; cert: string } {
  const keys = forge.pki.rsa.generateKeyPair(2048);
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = '01';
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + 3_600_000);
  const attrs = [{ name: 'commonName', value: '127.0.0.1' }];
  cert.setSubject(attrs);
  cert.setIssuer(attrs);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true },
    { name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] },
  ]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return { key: forge.pki.privateKeyToPem(keys.privateKey), cert: forge.pki.certificateToPem(cert) };
}

test('fetchJson verifies TLS: an untrusted certificate is refused, the given ca is trusted', async () => {
  const { key, cert } = selfSignedCert();
  const server = https.createServer({ key, cert }, (_req, res) => res.end('{"tls":true}'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  try {
    await assert.rejects(fetchJson(`https://127.0.0.1:${port}/`), (err: unknown) => err instanceof FetchJsonError && /certificate/i.test(err.message));
    assert.deepEqual(await fetchJson(`https://127.0.0.1:${port}/`, { ca: cert }), { tls: true });
  } finally {
    await new Promise<void>((r) => {
      server.close(() => r());
      server.closeAllConnections();
    });
  }
});

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import { ProxyAgent, request } from 'undici';
import { startAirlock, type Airlock } from '../fixtures/airlock-process.js';
import { startFakeDatadog, type FakeDatadog } from '../fixtures/fake-datadog.js';
import {
  assertNoSecrets,
  assertRefusal,
  curl,
  rawConnect,
  sendRaw,
  startTlsOrigin,
  tlsThroughConnect,
  parseResponses,
  type HttpResult,
  type TlsOrigin,
} from '../fixtures/refusal-helpers.js';
import { waitFor } from '../fixtures/wait-for.js';

// Every refusal of the pipeline, driven by real clients (curl, undici, raw sockets, Node tls)
// against the real `airlock serve` child, a fake Datadog and a local OIDC issuer on 127.0.0.1.
// The fake Datadog's `received` list is the witness: a refusal must leave it untouched.

const API = 'https://api.datadoghq.com/api/v1/validate';
/** Every token sent in this file: none of them (nor their signatures) may show up anywhere. */
const tokens: string[] = [];
const keep = (t: string): string => (tokens.push(t), t);

/** A refusal answered inside an intercepted tunnel: full shape, no upstream traffic, no secret. */
function expectRefused(a: Airlock, r: HttpResult, status: number, code: Parameters<typeof assertRefusal>[2], receivedBefore: number): void {
  assertRefusal(r, status, code);
  assert.equal(a.datadog.received.length, receivedBefore, 'the fake Datadog received nothing');
  assertNoSecrets(a, tokens, [r.raw]);
}

/** A refused CONNECT: curl sees the status and code (exit 56), a raw CONNECT gets the body too. */
async function expectConnectRefused(a: Airlock, target: string, status: number, code: Parameters<typeof assertRefusal>[2], url: string): Promise<void> {
  const n = a.datadog.received.length;
  const c = await curl(a, url, { args: ['--proxytunnel'] });
  assert.equal(c.exit, 56, c.stderr);
  assert.equal(c.status, status);
  assert.equal(c.headers['x-airlock-error'], code);
  const r = await rawConnect(a.port, target);
  expectRefused(a, r, status, code, n);
}

/** Last test of each instance: once it has stopped (all output flushed), no line holds a secret. */
function noSecretInLogsAfterStop(get: () => Airlock): void {
  test('after a clean stop, no log line holds the vaulted keys, a token or a token signature', async () => {
    const a = get();
    assert.equal(await a.stop(), 0);
    assert.ok(a.logs.some((l) => /"msg":"airlock stopped"/.test(l)));
    assertNoSecrets(a, tokens);
  });
}

describe('one shared airlock (default config)', () => {
  let a: Airlock;
  before(async () => {
    a = await startAirlock();
  });
  after(async () => {
    await a?.cleanup();
  });

  test('control: a valid token is forwarded with the vaulted key (so the refusals below are not trivial)', async () => {
    const n = a.datadog.received.length;
    const r = await curl(a, API, { token: keep(await a.issuer.mint()) });
    assert.equal(r.status, 200, r.body);
    assert.equal(a.datadog.received.length, n + 1);
    assert.equal(a.datadog.received.at(-1)!.headers['dd-api-key'], a.apiKey);
    assertNoSecrets(a, tokens, [r.raw]);
  });

  test('a request without any token is refused with 407 TOKEN_MISSING and Proxy-Authenticate', async () => {
    const n = a.datadog.received.length;
    const r = await curl(a, API);
    expectRefused(a, r, 407, 'TOKEN_MISSING', n);
    assert.equal(r.headers['proxy-authenticate'], 'Bearer realm="airlock"');
  });

  test('a plain (non-JWT) DD-API-KEY alone is still 407 TOKEN_MISSING: an agent key is no identity', async () => {
    const n = a.datadog.received.length;
    const r = await curl(a, API, { args: ['-H', 'DD-API-KEY: 0123456789abcdef0123456789abcdef'] });
    expectRefused(a, r, 407, 'TOKEN_MISSING', n);
    assert.equal(r.headers['proxy-authenticate'], 'Bearer realm="airlock"');
  });

  const invalid: [string, (a: Airlock) => Promise<string> | string, RegExp][] = [
    ['an expired token', (a) => a.issuer.mint({}, { expiresIn: -3600 }), /the token has expired/],
    ['a token for another audience', (a) => a.issuer.mint({}, { audience: 'someone-else' }), /wrong audience/],
    ['a token from another issuer', (a) => a.issuer.mint({}, { issuer: 'https://token.actions.evil.example' }), /unknown issuer/],
    ['an alg:none token', (a) => a.issuer.mintNone(), /signing algorithm is not allowed/],
    ['an HS256 token signed with the public key', (a) => a.issuer.mintHs256WithPublicKey(), /signing algorithm is not allowed/],
    ['a garbage bearer', () => `garbage-${Math.random().toString(36).slice(2)}`, /malformed token/],
  ];
  for (const [what, make, why] of invalid) {
    test(`${what} is refused with 403 TOKEN_INVALID`, async () => {
      const n = a.datadog.received.length;
      const r = await curl(a, API, { token: keep(await make(a)) });
      expectRefused(a, r, 403, 'TOKEN_INVALID', n);
      assert.match(r.body, why);
    });
  }

  test('two different valid tokens in two carriers (Proxy-Authorization + DD-API-KEY) are refused with 403 TOKEN_INVALID', async () => {
    const n = a.datadog.received.length;
    const t1 = keep(await a.issuer.mint());
    const t2 = keep(await a.issuer.mint({ sub: 'repo:acme/other:ref:refs/heads/main' }));
    const r = await curl(a, API, { token: t1, args: ['-H', `DD-API-KEY: ${t2}`] });
    expectRefused(a, r, 403, 'TOKEN_INVALID', n);
    assert.match(r.body, /two different identity tokens/);
  });

  test('a token of another repository_id gets 403 NO_GRANT (undici ProxyAgent)', async () => {
    const n = a.datadog.received.length;
    const token = keep(await a.issuer.mint({ repository_id: '999999' }));
    const dispatcher = new ProxyAgent({ uri: a.proxyUrl, token: `Bearer ${token}`, requestTls: { ca: readFileSync(a.caPath, 'utf8') } });
    try {
      const res = await request(API, { dispatcher });
      const body = await res.body.text();
      const headers = Object.fromEntries(Object.entries(res.headers).map(([k, v]) => [k, String(v)]));
      expectRefused(a, { status: res.statusCode, headers, body, raw: body }, 403, 'NO_GRANT', n);
    } finally {
      await dispatcher.close();
    }
  });

  test('a token lacking the ref claim the grant names gets 403 NO_GRANT', async () => {
    const n = a.datadog.received.length;
    const token = keep(await a.issuer.mint({ ref: undefined }));
    assert.equal(Object.hasOwn(decodeJwt(token), 'ref'), false, 'the minted token has no ref claim');
    expectRefused(a, await curl(a, API, { token }), 403, 'NO_GRANT', n);
  });

  test('a Host header naming another site than the CONNECT target is refused with 421 HOST_MISMATCH', async () => {
    const n = a.datadog.received.length;
    const r = await curl(a, API, { token: keep(await a.issuer.mint()), args: ['-H', 'Host: us3.datadoghq.com'] });
    expectRefused(a, r, 421, 'HOST_MISMATCH', n);
  });

  test('a CONNECT target differing from SNI and Host (curl --connect-to) is refused with 421 HOST_MISMATCH', async () => {
    const n = a.datadog.received.length;
    const r = await curl(a, API, { token: keep(await a.issuer.mint()), args: ['--connect-to', 'api.datadoghq.com:443:us3.datadoghq.com:443'] });
    expectRefused(a, r, 421, 'HOST_MISMATCH', n);
  });

  test('an SNI differing from the CONNECT target and Host (Node tls over a hand-made CONNECT) is refused with 421 HOST_MISMATCH', async () => {
    const n = a.datadog.received.length;
    const token = keep(await a.issuer.mint());
    const text = await tlsThroughConnect(
      a.port,
      'api.datadoghq.com:443',
      'us3.datadoghq.com',
      readFileSync(a.caPath, 'utf8'),
      'GET /api/v1/validate HTTP/1.1\r\nHost: api.datadoghq.com\r\nConnection: close\r\n\r\n',
      `Bearer ${token}`,
    );
    expectRefused(a, parseResponses(text), 421, 'HOST_MISMATCH', n);
  });

  test('CONNECT to 127.0.0.1 is refused with 403 DESTINATION_BLOCKED', async () => {
    await expectConnectRefused(a, `127.0.0.1:${a.datadog.port}`, 403, 'DESTINATION_BLOCKED', `https://127.0.0.1:${a.datadog.port}/`);
  });

  test('CONNECT to localhost:80 (not in upstream.resolve) is refused with 403 DESTINATION_BLOCKED', async () => {
    await expectConnectRefused(a, 'localhost:80', 403, 'DESTINATION_BLOCKED', 'http://localhost:80/');
  });

  test('CONNECT to the metadata address 169.254.169.254:80 is refused with 403 DESTINATION_BLOCKED', async () => {
    await expectConnectRefused(a, '169.254.169.254:80', 403, 'DESTINATION_BLOCKED', 'http://169.254.169.254:80/latest/meta-data/');
  });

  test('a proxied plain http://127.0.0.1:1/ is refused with 403 DESTINATION_BLOCKED', async () => {
    const n = a.datadog.received.length;
    expectRefused(a, await curl(a, 'http://127.0.0.1:1/'), 403, 'DESTINATION_BLOCKED', n);
  });

  test('CONNECT to an intercepted host on a port other than 443 is refused with 403 PASSTHROUGH_DENIED', async () => {
    await expectConnectRefused(a, 'api.datadoghq.com:8443', 403, 'PASSTHROUGH_DENIED', 'https://api.datadoghq.com:8443/');
  });

  test('garbage bytes and a bad CONNECT target on the listener get 400 BAD_REQUEST and the process keeps serving', async () => {
    for (const bytes of ['THIS IS NOT HTTP\r\n\r\n', Buffer.from([0x16, 0x03, 0x01, 0x00, 0xff, 0x00, 0x0d, 0x0a, 0x0d, 0x0a])]) {
      const r = parseResponses(await sendRaw(a.port, bytes));
      assertRefusal(r, 400, 'BAD_REQUEST');
    }
    assertRefusal(await rawConnect(a.port, 'api.datadoghq.com:99999'), 400, 'BAD_REQUEST');
    assert.equal(a.child?.exitCode, null);
    const n = a.datadog.received.length;
    const ok = await curl(a, API, { token: keep(await a.issuer.mint()) });
    assert.equal(ok.status, 200, ok.body);
    assert.equal(a.datadog.received.length, n + 1);
  });

  test('a WebSocket upgrade inside an intercepted connection is never upgraded: 407 without a token, and with one upstream gets a plain GET', async () => {
    const ws = [
      '-H',
      'Connection: Upgrade',
      '-H',
      'Upgrade: websocket',
      '-H',
      'Sec-WebSocket-Version: 13',
      '-H',
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
    ];
    const n = a.datadog.received.length;
    expectRefused(a, await curl(a, API, { args: ws }), 407, 'TOKEN_MISSING', n);
    const r = await curl(a, API, { token: keep(await a.issuer.mint()), args: ws });
    assert.notEqual(r.status, 101);
    assert.equal(a.datadog.received.length, n + 1, 'it went through the normal pipeline');
    const got = a.datadog.received.at(-1)!;
    assert.equal(got.headers['upgrade'], undefined);
    assert.doesNotMatch(String(got.headers['connection']), /upgrade/i);
    assert.equal(got.headers['dd-api-key'], a.apiKey);
    assertNoSecrets(a, tokens, [r.raw]);
  });

  noSecretInLogsAfterStop(() => a);
});

describe('an airlock whose grant credential is not in the vault', () => {
  let a: Airlock;
  before(async () => {
    a = await startAirlock({ noVault: true });
  });
  after(async () => {
    await a?.cleanup();
  });

  test('a valid token is refused with 503 CREDENTIAL_MISSING and the upstream gets nothing', async () => {
    expectRefused(a, await curl(a, API, { token: keep(await a.issuer.mint()) }), 503, 'CREDENTIAL_MISSING', 0);
  });

  noSecretInLogsAfterStop(() => a);
});

describe('an airlock with passthrough: deny', () => {
  let a: Airlock;
  before(async () => {
    a = await startAirlock({ config: { passthrough: 'deny' } });
  });
  after(async () => {
    await a?.cleanup();
  });

  // router.ts checks `passthrough === 'deny'` before resolveDestination, so no DNS query is made.
  test('CONNECT to a non-intercepted host is refused with 403 PASSTHROUGH_DENIED', async () => {
    await expectConnectRefused(a, 'example.org:443', 403, 'PASSTHROUGH_DENIED', 'https://example.org/');
  });

  test('the refusal comes before any name lookup: an unresolvable name is still 403 PASSTHROUGH_DENIED, not 502', async () => {
    expectRefused(a, await rawConnect(a.port, 'nowhere.invalid:443'), 403, 'PASSTHROUGH_DENIED', 0);
    expectRefused(a, await curl(a, 'http://nowhere.invalid/'), 403, 'PASSTHROUGH_DENIED', 0);
  });

  noSecretInLogsAfterStop(() => a);
});

describe('an airlock with its own upstream pins: an untrusted Datadog, a closed port, a passthrough origin', () => {
  let a: Airlock;
  let untrusted: FakeDatadog;
  let origin: TlsOrigin;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'airlock-refusals-'));
    untrusted = await startFakeDatadog();
    origin = await startTlsOrigin(dir, 'passthrough.test');
    a = await startAirlock({
      config: {
        upstream: {
          // No caFile: the fake's CA is not trusted.
          resolve: {
            'api.datadoghq.com': `127.0.0.1:${untrusted.port}`,
            'us3.datadoghq.com': '127.0.0.1:1',
            'passthrough.test': `127.0.0.1:${origin.port}`,
          },
        },
      },
    });
  });
  after(async () => {
    await a?.cleanup();
    await untrusted?.close();
    await origin?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('an upstream whose certificate does not verify gets 502 UPSTREAM_TLS and receives nothing', async () => {
    const r = await curl(a, API, { token: keep(await a.issuer.mint()) });
    expectRefused(a, r, 502, 'UPSTREAM_TLS', 0);
    assert.equal(untrusted.received.length, 0);
  });

  test('an intercepted host pinned to a closed port gets 502 UPSTREAM_UNREACHABLE', async () => {
    const r = await curl(a, 'https://us3.datadoghq.com/api/v1/validate', { token: keep(await a.issuer.mint()) });
    expectRefused(a, r, 502, 'UPSTREAM_UNREACHABLE', 0);
    assert.equal(untrusted.received.length, 0);
  });

  test("an allowed passthrough is a blind tunnel: the client sees the origin's own certificate, not Airlock's", async () => {
    const r = await curl(a, 'https://passthrough.test/', { args: ['-v', '--cacert', origin.certPath] });
    assert.equal(r.exit, 0, r.stderr);
    assert.equal(r.status, 200);
    assert.equal(r.body, 'hello from passthrough.test\n');
    assert.equal(origin.hits, 1);
    assert.match(r.stderr, /issuer: CN\s?=\s?passthrough\.test/);
    assert.doesNotMatch(r.stderr, /issuer:.*Airlock/);
    assert.equal(a.datadog.received.length, 0);
    assertNoSecrets(a, tokens, [r.raw]);
  });

  noSecretInLogsAfterStop(() => a);
});

describe('an airlock whose sessions directory becomes unusable while it runs', () => {
  let a: Airlock;
  before(async () => {
    a = await startAirlock();
  });
  after(async () => {
    await a?.cleanup();
  });

  test('a new identity is refused with 503 RECORDING_FAILED, the upstream sees nothing, and the log says why', async () => {
    // We run as root, so permissions stop nothing: a regular file where the directory was does.
    // (Done after start: with the file in place at startup, recover() refuses to start at all.)
    const sessions = join(a.stateDir, 'sessions');
    rmSync(sessions, { recursive: true, force: true });
    writeFileSync(sessions, 'not a directory\n');
    const r = await curl(a, API, { token: keep(await a.issuer.mint({ sub: 'repo:acme/app:ref:refs/heads/main:fresh' })) });
    expectRefused(a, r, 503, 'RECORDING_FAILED', 0);
    const line = await waitFor('the recording-failed log line', () => a.logs.find((l) => /"msg":"recording failed"/.test(l)));
    assert.match(line, /cannot create a session journal: ENOTDIR/);
    await waitFor('the request line', () => a.logs.find((l) => /"code":"RECORDING_FAILED"/.test(l) && /"msg":"request"/.test(l)));
    assertNoSecrets(a, tokens, [r.raw]);
  });

  noSecretInLogsAfterStop(() => a);
});

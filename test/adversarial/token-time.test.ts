// Finding 11 of issue #11: a CI token's time claims are checked against this server's clock with
// one configured skew (identity.clockSkew, default 60 s): an `iat` or `nbf` further in the future
// is TOKEN_INVALID, on a raw CONNECT and at the login endpoint alike, and so is an `exp` further
// in the past. The refusal says what to fix and never echoes the token.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startAirlock, type Airlock } from '../fixtures/airlock-process.js';
import { assertNoSecrets, assertRefusal, parseResponses, sendRaw, type HttpResult } from '../fixtures/refusal-helpers.js';
import { waitFor } from '../fixtures/wait-for.js';
import { rawTlsExchange } from '../fixtures/raw-tls.js';

const CLAIMS = { repository_id: '123456', ref: 'refs/heads/main' };
const now = (): number => Math.floor(Date.now() / 1000);

describe('time claims of the CI token', () => {
  let a: Airlock;
  let ca: string;
  before(async () => {
    a = await startAirlock();
    ca = readFileSync(a.caPath, 'utf8');
  });
  after(async () => {
    await a?.cleanup();
  });

  /** CONNECT with the token in Proxy-Authorization, then a raw GET inside the tunnel (identity is judged per request). */
  async function connect(token: string): Promise<HttpResult> {
    return parseResponses(
      await rawTlsExchange({
        port: a.port,
        ca,
        proxyAuth: `Bearer ${token}`,
        request: 'GET /api/v1/validate HTTP/1.1\r\nHost: api.datadoghq.com\r\nConnection: close\r\n\r\n',
      }),
    );
  }

  async function login(token: string): Promise<HttpResult> {
    const text = await sendRaw(
      a.port,
      `POST /.airlock/v1/login HTTP/1.1\r\nHost: 127.0.0.1:${a.port}\r\nAuthorization: Bearer ${token}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`,
    );
    return parseResponses(text);
  }

  /** A GET through a raw tunnel authorized by `token`: the request must reach Datadog. */
  async function goesThrough(token: string): Promise<void> {
    const before = a.datadog.received.length;
    const text = await rawTlsExchange({
      port: a.port,
      ca,
      proxyAuth: `Bearer ${token}`,
      request: 'GET /api/v1/validate HTTP/1.1\r\nHost: api.datadoghq.com\r\nConnection: close\r\n\r\n',
    });
    assert.equal(parseResponses(text).status, 200, text);
    assert.equal(a.datadog.received.length, before + 1);
  }

  async function refusedEverywhere(token: string, detail: RegExp): Promise<void> {
    const before = a.datadog.received.length;
    const logged = a.logs.filter((l) => l.includes('"TOKEN_INVALID"')).length;
    const c = await connect(token);
    assertRefusal(c, 403, 'TOKEN_INVALID');
    assert.match(c.body, detail);
    const l = await login(token);
    assertRefusal(l, 403, 'TOKEN_INVALID');
    assert.match(l.body, detail);
    assert.equal(a.datadog.received.length, before, 'nothing reached Datadog');
    // The log is written asynchronously (log-batch.ts): wait for the line rather than race it.
    await waitFor('the refusal in the log', () => (a.logs.filter((l) => l.includes('"TOKEN_INVALID"')).length > logged ? true : undefined));
    assertNoSecrets(a, [token], [c.raw, l.raw]);
  }

  test('a token with iat an hour in the future is refused with 403 TOKEN_INVALID inside a raw CONNECT tunnel and at login', async () => {
    const iat = now() + 3_600;
    const token = await a.issuer.mint({ ...CLAIMS, iat, nbf: iat, exp: iat + 300 });
    await refusedEverywhere(token, /(issued in the future|not valid yet).*ahead of this server's clock.*clockSkew 60 s/);
  });

  test('a token with only iat in the future (nbf now) is refused too: jose does not check iat by itself', async () => {
    const token = await a.issuer.mint({ ...CLAIMS, iat: now() + 3_600, nbf: now() - 5 });
    await refusedEverywhere(token, /issued in the future/);
  });

  test('a token with nbf an hour in the future is refused with 403 TOKEN_INVALID', async () => {
    const token = await a.issuer.mint({ ...CLAIMS, nbf: now() + 3_600 });
    await refusedEverywhere(token, /not valid yet/);
  });

  test('a token that expired two minutes ago is refused: exp gets the same 60 s skew, no more', async () => {
    const token = await a.issuer.mint({ ...CLAIMS, iat: now() - 400, exp: now() - 120 });
    await refusedEverywhere(token, /expired/);
  });

  test('a token whose iat is 30 s ahead (within the 60 s skew) is accepted and its request reaches Datadog', async () => {
    const iat = now() + 30;
    await goesThrough(await a.issuer.mint({ ...CLAIMS, iat, nbf: iat, exp: iat + 300 }));
  });

  test('a token that expired 30 s ago (within the skew) is accepted', async () => {
    await goesThrough(await a.issuer.mint({ ...CLAIMS, iat: now() - 300, exp: now() - 30 }));
  });

  test('after the refusals the server is alive and a current token still works', async () => {
    assert.equal(a.child?.exitCode, null);
    await goesThrough(await a.issuer.mint(CLAIMS));
    const l = await login(await a.issuer.mint(CLAIMS));
    assert.equal(l.status, 200, l.body);
  });
});

describe('identity.clockSkew', () => {
  let a: Airlock;
  before(async () => {
    a = await startAirlock({
      identity: (url) => ({
        issuers: [{ name: 'github', issuer: url, audience: 'airlock', algorithms: ['RS256'] }],
        grants: [{ name: 'dashboards-bot', issuer: 'github', claims: CLAIMS, credential: 'dd-prod' }],
        clockSkew: '5s',
      }),
    });
  });
  after(async () => {
    await a?.cleanup();
  });

  test('with clockSkew 5s, an iat 30 s ahead is refused with TOKEN_INVALID and the detail names the skew', async () => {
    const iat = now() + 30;
    const token = await a.issuer.mint({ ...CLAIMS, iat, nbf: iat - 60, exp: iat + 300 });
    const before = a.datadog.received.length;
    const c = parseResponses(
      await rawTlsExchange({
        port: a.port,
        ca: readFileSync(a.caPath, 'utf8'),
        proxyAuth: `Bearer ${token}`,
        request: 'GET /api/v1/validate HTTP/1.1\r\nHost: api.datadoghq.com\r\nConnection: close\r\n\r\n',
      }),
    );
    assertRefusal(c, 403, 'TOKEN_INVALID');
    assert.match(c.body, /5 s/);
    assert.equal(a.datadog.received.length, before);
    assertNoSecrets(a, [token], [c.raw]);
  });
});

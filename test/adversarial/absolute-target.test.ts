import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startAirlock, type Airlock } from '../fixtures/airlock-process.js';
import { assertNoSecrets, assertRefusal, parseResponses, sendRaw } from '../fixtures/refusal-helpers.js';
import { allEntries, assertNowhere, exchange } from './tunnel-witness.js';

// Finding 2 (and the userinfo carrier of 7) of issue #11: an absolute-form request target inside
// the tunnel was matched as the path "/https:/..." and slipped past every path rule.

const USERINFO_KEY = 'fedcba9876543210fedcba9876543210';

describe('absolute-form request targets', () => {
  let a: Airlock;
  const tokens: string[] = [];
  const mint = async (): Promise<string> => {
    const t = await a.issuer.mint({ repository_id: '123456', ref: 'refs/heads/main' });
    tokens.push(t);
    return t;
  };
  before(async () => {
    a = await startAirlock();
  });
  after(async () => {
    await a?.cleanup();
  });

  for (const target of [
    'https://api.datadoghq.com/api/v2/api_keys',
    'HTTPS://API.DATADOGHQ.COM/api/v2/api_keys',
    'https://api.datadoghq.com:443/api/v2/api_keys',
  ]) {
    test(`GET ${target} is refused 403 POLICY_DENIED by the key-management rule and recorded with the origin URL`, async () => {
      const since = a.datadog.received.length;
      const r = await exchange(a, await mint(), `GET ${target} HTTP/1.1\r\nHost: api.datadoghq.com\r\nConnection: close\r\n\r\n`);
      assertRefusal(r, 403, 'POLICY_DENIED');
      assert.equal(a.datadog.received.length, since, 'nothing reached Datadog');
      const entries = await allEntries(a);
      const e = entries.at(-1);
      assert.ok(
        entries.some((x) => x.request.url === 'https://api.datadoghq.com/api/v2/api_keys' && x._airlock.errorCode === 'POLICY_DENIED'),
        JSON.stringify(e?.request.url),
      );
      assertNoSecrets(a, tokens, [r.raw]);
    });
  }

  test('absolute-form for another host inside the tunnel is refused 421 HOST_MISMATCH', async () => {
    const since = a.datadog.received.length;
    const r = await exchange(a, await mint(), 'GET https://evil.example/api/v1/validate HTTP/1.1\r\nHost: api.datadoghq.com\r\nConnection: close\r\n\r\n');
    assertRefusal(r, 421, 'HOST_MISMATCH');
    assert.equal(a.datadog.received.length, since);
  });

  test('an asterisk target is refused 400 BAD_REQUEST', async () => {
    const since = a.datadog.received.length;
    const r = await exchange(a, await mint(), 'OPTIONS * HTTP/1.1\r\nHost: api.datadoghq.com\r\nConnection: close\r\n\r\n');
    assertRefusal(r, 400, 'BAD_REQUEST');
    assert.equal(a.datadog.received.length, since);
  });

  test('an allowed absolute-form request goes upstream in origin-form', async () => {
    const since = a.datadog.received.length;
    const r = await exchange(
      a,
      await mint(),
      'GET Https://api.datadoghq.com/api/v1/validate?x=1 HTTP/1.1\r\nHost: api.datadoghq.com\r\nConnection: close\r\n\r\n',
    );
    assert.equal(r.status, 200, r.raw);
    assert.deepEqual(
      a.datadog.received.slice(since).map((x) => x.path),
      ['/api/v1/validate?x=1'],
    );
  });

  test('userinfo in an absolute-form target never reaches Datadog, the recording or the log', async () => {
    const since = a.datadog.received.length;
    const r = await exchange(
      a,
      await mint(),
      `GET https://${USERINFO_KEY}:x@api.datadoghq.com/api/v1/validate HTTP/1.1\r\nHost: api.datadoghq.com\r\nConnection: close\r\n\r\n`,
    );
    assert.equal(r.status, 200, r.raw);
    assert.deepEqual(
      a.datadog.received.slice(since).map((x) => x.path),
      ['/api/v1/validate'],
    );
    const e = (await allEntries(a)).at(-1)!;
    assert.equal(e.request.url, 'https://api.datadoghq.com/api/v1/validate');
    assert.ok(e._airlock.stripped?.includes('url:userinfo'), JSON.stringify(e._airlock));
    assertNowhere(a, USERINFO_KEY, since, [r.raw]);
  });

  test('through the plain listener, userinfo is stripped and key management is still refused', async () => {
    const token = await mint();
    const since = a.datadog.received.length;
    const ok = parseResponses(
      await sendRaw(
        a.port,
        `GET http://${USERINFO_KEY}@api.datadoghq.com/api/v1/validate HTTP/1.1\r\nHost: api.datadoghq.com\r\nProxy-Authorization: Bearer ${token}\r\nConnection: close\r\n\r\n`,
      ),
    );
    assert.equal(ok.status, 200, ok.raw);
    assert.deepEqual(
      a.datadog.received.slice(since).map((x) => x.path),
      ['/api/v1/validate'],
    );
    assertNowhere(a, USERINFO_KEY, since, [ok.raw]);
    const denied = parseResponses(
      await sendRaw(
        a.port,
        `GET HTTP://API.DATADOGHQ.COM/api/v2/./api_keys HTTP/1.1\r\nHost: api.datadoghq.com\r\nProxy-Authorization: Bearer ${token}\r\nConnection: close\r\n\r\n`,
      ),
    );
    assertRefusal(denied, 403, 'POLICY_DENIED');
    assert.equal(a.datadog.received.length, since + 1);
    assert.ok((await allEntries(a)).some((x) => x.request.url === 'https://api.datadoghq.com/api/v2/api_keys' && x._airlock.errorCode === 'POLICY_DENIED'));
    assertNoSecrets(a, tokens, [ok.raw, denied.raw]);
  });
});

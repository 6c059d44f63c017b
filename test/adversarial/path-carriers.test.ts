import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startAirlock, type Airlock } from '../fixtures/airlock-process.js';
import { assertNoSecrets, assertRefusal } from '../fixtures/refusal-helpers.js';
import { allEntries, assertNowhere, exchange } from './tunnel-witness.js';

// The path carriers of finding 7 of issue #11: spellings of the legacy /v1/input/KEY path that the
// strip rule did not see, so the agent's key reached Datadog and landed in the HAR and the log.

const KEY = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';

describe('the agent key in the legacy /v1/input path', () => {
  let a: Airlock;
  const tokens: string[] = [];
  before(async () => {
    a = await startAirlock();
  });
  after(async () => {
    await a?.cleanup();
  });
  const send = async (target: string) => {
    const t = await a.issuer.mint({ repository_id: '123456', ref: 'refs/heads/main' });
    tokens.push(t);
    return exchange(
      a,
      t,
      `POST ${target} HTTP/1.1\r\nHost: api.datadoghq.com\r\nContent-Type: text/plain\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello`,
    );
  };

  for (const target of [
    `//v1/input/${KEY}`,
    `/v1/./input/${KEY}`,
    `/v1//input/${KEY}`,
    `/v1/%2e/input/${KEY}`,
    `/v1/%69nput/${KEY}`,
    `/v1/x/../input/${KEY}?a=1`,
  ]) {
    test(`${target} is forwarded as /v1/input without the key, which is nowhere in Datadog, the recording or the log`, async () => {
      const since = a.datadog.received.length;
      const r = await send(target);
      const got = a.datadog.received.slice(since);
      assert.equal(got.length, 1, r.raw);
      assert.match(got[0]!.path, /^\/v1\/input(\?a=1)?$/);
      assert.equal(got[0]!.headers['dd-api-key'], a.apiKey);
      const e = (await allEntries(a)).at(-1)!;
      assert.ok(e._airlock.stripped?.includes('path:/v1/input key'), JSON.stringify(e._airlock));
      assertNowhere(a, KEY, since, [r.raw]);
      assertNoSecrets(a, tokens, [r.raw]);
    });
  }

  for (const target of [
    `/v1/input%2F${KEY}`,
    `/v1/input%2f${KEY}`,
    `/v1/input%5C${KEY}`,
    `/v1/input\\${KEY}`,
    `/v1/input/%00${KEY}`,
    `/v1/input/%zz${KEY}`,
    `/../v1/input/${KEY}`,
  ]) {
    test(`${target.replace(KEY, 'KEY')} cannot be normalized unambiguously: refused 400 BAD_REQUEST, recorded, the key nowhere`, async () => {
      const since = a.datadog.received.length;
      const r = await send(target);
      assertRefusal(r, 400, 'BAD_REQUEST');
      assert.equal(a.datadog.received.length, since, 'nothing reached Datadog');
      const e = (await allEntries(a)).at(-1)!;
      assert.equal(e._airlock.errorCode, 'BAD_REQUEST');
      assertNowhere(a, KEY, since, [r.raw]);
    });
  }

  test('a Datadog path with an escaped colon still works and is forwarded as sent', async () => {
    const since = a.datadog.received.length;
    const t = await a.issuer.mint({ repository_id: '123456', ref: 'refs/heads/main' });
    tokens.push(t);
    const r = await exchange(a, t, 'GET /api/v1/metrics/system.cpu%3Auser;x?from=1 HTTP/1.1\r\nHost: api.datadoghq.com\r\nConnection: close\r\n\r\n');
    assert.ok(r.status < 500, r.raw);
    assert.deepEqual(
      a.datadog.received.slice(since).map((x) => x.path),
      ['/api/v1/metrics/system.cpu%3Auser;x?from=1'],
    );
  });
});

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startAirlock, type Airlock } from '../fixtures/airlock-process.js';
import { parseResponses } from '../fixtures/refusal-helpers.js';
import { rawTlsExchange } from '../fixtures/raw-tls.js';

// The baseline every adversarial file builds on: a request written byte by byte inside the
// tunnel goes through the whole pipeline, and the fake Datadog is the witness of what arrived.

describe('a hand-written request inside the tunnel', () => {
  let a: Airlock;
  before(async () => {
    a = await startAirlock();
  });
  after(async () => {
    await a?.cleanup();
  });

  test('a well-formed GET reaches Datadog once, with the vaulted key and not the agent key', async () => {
    const token = await a.issuer.mint({ repository_id: '123456', ref: 'refs/heads/main' });
    const before = a.datadog.received.length;
    const text = await rawTlsExchange({
      port: a.port,
      ca: readFileSync(a.caPath, 'utf8'),
      proxyAuth: `Bearer ${token}`,
      request: 'GET /api/v1/validate HTTP/1.1\r\nHost: api.datadoghq.com\r\nDD-API-KEY: 0123456789abcdef0123456789abcdef\r\nConnection: close\r\n\r\n',
    });
    const r = parseResponses(text);
    assert.equal(r.status, 200, text);
    const got = a.datadog.received.slice(before);
    assert.equal(got.length, 1);
    assert.equal(got[0]!.headers['dd-api-key'], a.apiKey);
  });
});

// The per-session in-flight reservation (lib/limits.ts) must be given back when an exchange's
// response is delivered, not some turns later: a client that reads each response before it sends
// the next request on its kept-alive connection holds no response bytes in Airlock, and must never
// be refused with INFLIGHT_LIMIT, even when the cap admits a single exchange. The cap must still
// hold for exchanges that are truly concurrent (parallel connections of one session).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startAirlock, type Airlock } from '../fixtures/airlock-process.js';
import { assertRefusal, parseResponses } from '../fixtures/refusal-helpers.js';
import { exchangeOn, openRawTunnel, type RawTunnel } from '../fixtures/raw-tls.js';
import { waitFor } from '../fixtures/wait-for.js';

const VALIDATE = 'GET /api/v1/validate HTTP/1.1\r\nHost: api.datadoghq.com\r\n\r\n';
const SMALL = 'GET /big?bytes=2000 HTTP/1.1\r\nHost: api.datadoghq.com\r\n\r\n';

describe('the in-flight reservation of a kept-alive connection', () => {
  let a: Airlock;
  let ca: string;
  // One exchange reserves maxBodyBytes + 256 KiB = 320 KiB: one fits on a connection and in a session, two do not.
  before(async () => {
    a = await startAirlock({
      config: {
        recording: { maxBodyBytes: 65_536 },
        limits: { maxInflightBytesPerConnection: 400 * 1024, maxInflightBytesPerSession: 400 * 1024 },
      },
    });
    ca = readFileSync(a.caPath, 'utf8');
  });
  after(async () => {
    await a?.cleanup();
  });

  const refusals = (): number => a.logs.filter((l) => l.includes('"code":"INFLIGHT_LIMIT"')).length;

  test('requests sent one after another, each once the previous response is read, are never refused with INFLIGHT_LIMIT', async () => {
    const token = await a.issuer.mint({ repository_id: '123456', ref: 'refs/heads/main', run_id: 'sequential' });
    const t = await openRawTunnel({ port: a.port, ca, proxyAuth: `Bearer ${token}` });
    const earlier = refusals();
    try {
      for (let i = 0; i < 200; i++) {
        const text = await exchangeOn(t, i % 2 === 0 ? VALIDATE : SMALL);
        const r = parseResponses(text);
        assert.equal(r.status, 200, `request ${i}: ${text.slice(0, 300)}`);
      }
    } finally {
      t.end();
    }
    assert.equal(refusals(), earlier);
  });

  test('two parallel connections of one session with unread responses: the second exchange gets 503 INFLIGHT_LIMIT', async () => {
    const token = await a.issuer.mint({ repository_id: '123456', ref: 'refs/heads/main', run_id: 'parallel' });
    const earlier = refusals();
    const tunnels: RawTunnel[] = [];
    try {
      for (let i = 0; i < 2; i++) tunnels.push(await openRawTunnel({ port: a.port, ca, proxyAuth: `Bearer ${token}` }));
      for (const t of tunnels) {
        // The client never reads: the first response backs up into Airlock and holds the reservation.
        t.socket.pause();
        t.socket.write('GET /big?bytes=50000000 HTTP/1.1\r\nHost: api.datadoghq.com\r\n\r\n');
      }
      await waitFor('one INFLIGHT_LIMIT refusal', () => (refusals() > earlier ? true : undefined), 10_000);
      let refused = 0;
      for (const t of tunnels) {
        t.socket.resume();
        const head = (await t.readUntil((b) => b.includes('\r\n\r\n'), 3_000)).toString('latin1');
        if (/^HTTP\/1\.1 503/.test(head)) {
          const whole = await t.readUntil((b) => b.toString('latin1').endsWith('"]}'), 3_000);
          assertRefusal(parseResponses(whole.toString('latin1')), 503, 'INFLIGHT_LIMIT');
          refused++;
        } else {
          assert.match(head, /^HTTP\/1\.1 200/);
        }
      }
      assert.equal(refused, 1);
    } finally {
      for (const t of tunnels) t.end();
    }
    assert.equal(refusals(), earlier + 1);
  });
});

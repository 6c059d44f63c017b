import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { readFileSync } from 'node:fs';
import { startAirlock, type Airlock } from '../fixtures/airlock-process.js';
import { assertNoSecrets, assertRefusal, parseResponses } from '../fixtures/refusal-helpers.js';
import { openRawTunnel } from '../fixtures/raw-tls.js';
import { freePort } from '../fixtures/free-port.js';
import { exchangeOn as exchange } from '../fixtures/raw-tls.js';

// Issue #11, finding 3: tunnel state was keyed by (source port, local port). A connection from
// another address with the same source port got the job's CONNECT (its token, so its identity
// and vaulted key). State now hangs off the socket object itself.

const REQUEST = 'GET /api/v1/validate HTTP/1.1\r\nHost: api.datadoghq.com\r\n\r\n';

/** Raw bytes on a TCP connection bound to `localAddress:localPort`, until the server closes. */
function sendRawFrom(port: number, localAddress: string, localPort: number, bytes: string, ms = 5_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const s = net.connect({ port, host: '127.0.0.1', localAddress, localPort }, () => s.write(bytes));
    const timer = setTimeout(() => s.destroy(), ms);
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('latin1'));
    });
    s.on('error', (err) => {
      if (chunks.length === 0) {
        clearTimeout(timer);
        reject(err);
      }
    });
  });
}

describe('connection state belongs to the socket, not to its source port', () => {
  let a: Airlock;
  let ca: string;
  before(async () => {
    a = await startAirlock({ config: { transparent: { listen: '127.0.0.1:0' } } });
    ca = readFileSync(a.caPath, 'utf8');
  });
  after(async () => {
    await a?.cleanup();
  });

  test("a token-less tunnel from 127.0.0.2 on the job tunnel's source port is refused 407 TOKEN_MISSING and the job keeps its identity", async () => {
    const token = await a.issuer.mint({ repository_id: '123456', ref: 'refs/heads/main' });
    const p = await freePort();
    // The attacker's tunnel first, then the job's: the job's CONNECT used to overwrite the slot both shared.
    const attacker = await openRawTunnel({ port: a.port, ca, localAddress: '127.0.0.2', localPort: p });
    const job = await openRawTunnel({ port: a.port, ca, localAddress: '127.0.0.1', localPort: p, proxyAuth: `Bearer ${token}` });
    const before = a.datadog.received.length;
    try {
      const stolen = await exchange(attacker, REQUEST);
      assertRefusal(parseResponses(stolen), 407, 'TOKEN_MISSING');
      assert.equal(a.datadog.received.length, before, 'nothing reached Datadog for the token-less tunnel');

      const own = await exchange(job, REQUEST);
      assert.equal(parseResponses(own).status, 200, own);
      const got = a.datadog.received.slice(before);
      assert.equal(got.length, 1);
      assert.equal(got[0]!.headers['dd-api-key'], a.apiKey);
      assertNoSecrets(a, [token], [stolen]);
    } finally {
      attacker.end();
      job.end();
    }
  });

  test('the job tunnel opened first keeps its identity when a token-less tunnel arrives from 127.0.0.2 on the same source port, which is refused 407 TOKEN_MISSING', async () => {
    const token = await a.issuer.mint({ repository_id: '123456', ref: 'refs/heads/main' });
    const p = await freePort();
    const job = await openRawTunnel({ port: a.port, ca, localAddress: '127.0.0.1', localPort: p, proxyAuth: `Bearer ${token}` });
    const attacker = await openRawTunnel({ port: a.port, ca, localAddress: '127.0.0.2', localPort: p });
    const before = a.datadog.received.length;
    try {
      const own = await exchange(job, REQUEST);
      assert.equal(parseResponses(own).status, 200, own);
      const stolen = await exchange(attacker, REQUEST);
      assertRefusal(parseResponses(stolen), 407, 'TOKEN_MISSING');
      assert.equal(a.datadog.received.length, before + 1, "only the job's request reached Datadog");
      // The attacker's tunnel closing must not strip the job's tunnel of its state either.
      attacker.end();
      await new Promise((r) => setTimeout(r, 200));
      const again = await exchange(job, REQUEST);
      assert.equal(parseResponses(again).status, 200, again);
      assert.equal(a.datadog.received.length, before + 2);
      assertNoSecrets(a, [token], [stolen]);
    } finally {
      attacker.end();
      job.end();
    }
  });

  test("a plain request to the listener from 127.0.0.2 on the job tunnel's source port is judged on its own: 407 TOKEN_MISSING", async () => {
    const token = await a.issuer.mint({ repository_id: '123456', ref: 'refs/heads/main' });
    const p = await freePort();
    const job = await openRawTunnel({ port: a.port, ca, localAddress: '127.0.0.1', localPort: p, proxyAuth: `Bearer ${token}` });
    const before = a.datadog.received.length;
    try {
      const text = await sendRawFrom(
        a.port,
        '127.0.0.2',
        p,
        'GET http://api.datadoghq.com/api/v1/validate HTTP/1.1\r\nHost: api.datadoghq.com\r\nConnection: close\r\n\r\n',
      );
      assertRefusal(parseResponses(text), 407, 'TOKEN_MISSING');
      assert.equal(a.datadog.received.length, before, 'nothing reached Datadog');
      assertNoSecrets(a, [token], [text]);
      const own = await exchange(job, REQUEST);
      assert.equal(parseResponses(own).status, 200, own);
    } finally {
      job.end();
    }
  });

  test('a transparent connection keeps its own state when another from 127.0.0.2 on the same source port comes and goes', async () => {
    const token = await a.issuer.mint({ repository_id: '123456', ref: 'refs/heads/main' });
    const line = a.logs.find((l) => l.includes('transparent TLS listener on'));
    const tport = Number(/transparent TLS listener on 127\.0\.0\.1:(\d+)/.exec(line ?? '')?.[1]);
    assert.ok(tport > 0, 'the transparent listener logged its port');
    const p = await freePort();
    const open = (localAddress: string): Promise<tls.TLSSocket> =>
      new Promise((resolve, reject) => {
        const raw = net.connect({ port: tport, host: '127.0.0.1', localAddress, localPort: p });
        raw.once('error', reject);
        const s = tls.connect({ socket: raw, servername: 'api.datadoghq.com', ca }, () => resolve(s));
        s.once('error', reject);
      });
    const first = await open('127.0.0.1');
    const second = await open('127.0.0.2');
    second.destroy();
    await new Promise((r) => setTimeout(r, 200));
    const before = a.datadog.received.length;
    const chunks: Buffer[] = [];
    first.on('data', (c: Buffer) => chunks.push(c));
    const closed = new Promise<void>((r) => first.once('close', () => r()));
    first.write(`GET /api/v1/validate HTTP/1.1\r\nHost: api.datadoghq.com\r\nDD-API-KEY: ${token}\r\nConnection: close\r\n\r\n`);
    await Promise.race([closed, new Promise((r) => setTimeout(r, 5_000))]);
    first.destroy();
    const text = Buffer.concat(chunks).toString('latin1');
    assert.equal(parseResponses(text).status, 200, text);
    assert.equal(a.datadog.received.length, before + 1);
    assert.equal(a.datadog.received.at(-1)!.headers['dd-api-key'], a.apiKey);
  });

  test('the process is alive and serves a normal tunnel afterwards', async () => {
    const token = await a.issuer.mint({ repository_id: '123456', ref: 'refs/heads/main' });
    const t = await openRawTunnel({ port: a.port, ca, proxyAuth: `Bearer ${token}` });
    try {
      const text = await exchange(t, REQUEST);
      assert.equal(parseResponses(text).status, 200, text);
    } finally {
      t.end();
    }
    assert.equal(a.child?.exitCode, null);
  });
});

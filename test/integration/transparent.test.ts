// The transparent listener: raw TLS that the nat rule redirected (here: dialled directly, as the
// redirect would deliver it) is handled as a CONNECT to its SNI.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import tls from 'node:tls';
import { readFileSync } from 'node:fs';
import { startAirlock, type Airlock } from '../fixtures/airlock-process.js';

let a: Airlock;
let tport = 0;
let ca: string;

before(async () => {
  a = await startAirlock({ config: { transparent: { listen: '127.0.0.1:0' } } });
  ca = readFileSync(a.caPath, 'utf8');
  const line = a.logs.find((l) => l.includes('transparent TLS listener on'));
  assert.ok(line, 'the transparent listener logged its address');
  tport = (JSON.parse(line) as { port: number }).port;
});
after(async () => {
  await a.cleanup();
});

function get(servername: string, headers: Record<string, string>): Promise<{ status: number; body: string; errorCode?: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      { host: '127.0.0.1', port: tport, servername, path: '/api/v1/validate', headers: { host: servername, ...headers }, ca, agent: false, timeout: 10_000 },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body, ...(res.headers['x-airlock-error'] ? { errorCode: String(res.headers['x-airlock-error']) } : {}) }),
        );
      },
    );
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end();
  });
}

test('a client with no proxy configured is intercepted by SNI and its token in DD-API-KEY is honoured', async () => {
  const token = await a.issuer.mint();
  const before = a.datadog.received.length;
  const r = await get('api.datadoghq.com', { 'dd-api-key': token });
  assert.equal(r.status, 200, r.body);
  assert.deepEqual(JSON.parse(r.body), { valid: true });
  assert.equal(a.datadog.received.length, before + 1);
  assert.equal(a.datadog.received.at(-1)?.headers['dd-api-key'], a.apiKey);
  const sessions = JSON.parse((await a.cli(['sessions', 'ls', '--json'])).stdout) as Array<{ entryCount: number }>;
  assert.equal(sessions.length, 1, 'the exchange was recorded in a session');
});

test('a transparent request without any token is refused with 407 TOKEN_MISSING and nothing reaches Datadog', async () => {
  const before = a.datadog.received.length;
  const r = await get('api.datadoghq.com', {});
  assert.equal(r.status, 407);
  assert.equal(r.errorCode, 'TOKEN_MISSING');
  assert.equal(a.datadog.received.length, before);
});

test('a ClientHello without SNI is closed without an answer', async () => {
  const err = await new Promise<Error | null>((resolve) => {
    const s = tls.connect({ host: '127.0.0.1', port: tport, ca, rejectUnauthorized: false }, () => resolve(null));
    s.on('error', (e: Error) => resolve(e));
    s.setTimeout(10_000, () => s.destroy(new Error('timeout')));
  });
  assert.ok(err, 'the handshake failed');
  assert.notEqual(err.message, 'timeout');
});

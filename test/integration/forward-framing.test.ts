import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import tls from 'node:tls';
import type { AddressInfo, Socket } from 'node:net';
import { PassThrough, Readable } from 'node:stream';
import { forward, ForwardError } from '../../appliance/proxy/forward.js';
import { frameHeaders } from '../../appliance/pipeline/frame-headers.js';
import { UpstreamPools } from '../../appliance/proxy/upstream-pools.js';
import type { BodyFraming } from '../../appliance/pipeline/canonical-request.js';
import { startFakeDatadog } from '../fixtures/fake-datadog.js';

// forward() on a real loopback http server: the framing it sends, and that an upstream socket
// that saw a doubtful exchange is destroyed rather than pooled.

interface Got {
  method: string;
  te: string | undefined;
  cl: string | undefined;
  body: string;
  socket: Socket;
}
let server: http.Server;
const got: Got[] = [];

before(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('latin1');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      got.push({ method: req.method ?? '', te: req.headers['transfer-encoding'], cl: req.headers['content-length'], body, socket: req.socket });
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
});
after(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

function send(method: string, body: Readable, framing: BodyFraming, agent: http.Agent, headers: string[] = []): ReturnType<typeof forward> {
  return forward({
    destination: { host: 'api.datadoghq.com', address: '127.0.0.1', port: (server.address() as AddressInfo).port, family: 4, pinned: true },
    tls: false,
    method,
    path: '/x',
    headers: ['Host', 'api.datadoghq.com', ...headers],
    body,
    framing,
    agent,
    maxBodyBytes: 1 << 20,
    timeoutMs: 5_000,
    now: () => performance.now(),
  });
}

test('frameHeaders replaces any framing header with exactly one for the framing', () => {
  assert.deepEqual(frameHeaders(['Content-Length', '9', 'transfer-encoding', 'gzip', 'X', '1'], { kind: 'chunked' }), [
    'X',
    '1',
    'Transfer-Encoding',
    'chunked',
  ]);
  assert.deepEqual(frameHeaders(['X', '1'], { kind: 'length', length: 4 }), ['X', '1', 'Content-Length', '4']);
  assert.deepEqual(frameHeaders(['Content-Length', '4'], { kind: 'none' }), []);
});

for (const method of ['GET', 'DELETE', 'OPTIONS']) {
  test(`${method} with a chunked body goes upstream chunked, with Content-Length it goes with Content-Length`, async () => {
    const agent = new http.Agent({ keepAlive: true });
    got.length = 0;
    await send(method, Readable.from([Buffer.from('GET /smuggled HTTP/1.1\r\n')]), { kind: 'chunked' }, agent);
    await send(method, Readable.from([Buffer.from('abc')]), { kind: 'length', length: 3 }, agent, ['Content-Length', '99']);
    assert.deepEqual(
      got.map((g) => [g.method, g.te, g.cl, g.body]),
      [
        [method, 'chunked', undefined, 'GET /smuggled HTTP/1.1\r\n'],
        [method, undefined, '3', 'abc'],
      ],
    );
    agent.destroy();
  });
}

test('HEAD sends no body, whatever the client framed', async () => {
  const agent = new http.Agent({ keepAlive: true });
  got.length = 0;
  await send('HEAD', Readable.from([Buffer.from('GET /smuggled HTTP/1.1\r\n')]), { kind: 'chunked' }, agent);
  assert.equal(got.length, 1);
  assert.equal(got[0]!.te, undefined);
  assert.equal(got[0]!.body, '');
  agent.destroy();
});

test('a body shorter than its Content-Length fails and its upstream socket is destroyed, not pooled', async () => {
  const agent = new http.Agent({ keepAlive: true });
  const body = new PassThrough();
  const p = send('POST', body, { kind: 'length', length: 10 }, agent);
  body.end('abc');
  await assert.rejects(p, (err: unknown) => err instanceof ForwardError && err.code === 'BAD_REQUEST');
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(Object.values(agent.freeSockets).flat().length, 0, 'nothing returned to the pool');
  agent.destroy();
});

test('a client that goes away mid-body leaves no upstream socket in the pool', async () => {
  const agent = new http.Agent({ keepAlive: true });
  const body = new PassThrough();
  const p = send('PUT', body, { kind: 'chunked' }, agent);
  body.write('part');
  setTimeout(() => body.destroy(), 20);
  await assert.rejects(p, ForwardError);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(Object.values(agent.freeSockets).flat().length, 0);
  agent.destroy();
});

test('per-session pools: a clean exchange reuses its socket within a session, another session never gets it, release destroys it', async () => {
  const dd = await startFakeDatadog();
  const pools = new UpstreamPools({ secureContext: tls.createSecureContext({ ca: [...tls.rootCertificates, dd.caPem] }), socketTimeoutMs: 5_000 });
  const viaTls = (session: string) =>
    forward({
      destination: { host: 'api.datadoghq.com', address: '127.0.0.1', port: dd.port, family: 4, pinned: true },
      tls: true,
      method: 'GET',
      path: '/api/v1/validate',
      headers: ['Host', 'api.datadoghq.com'],
      body: Readable.from([]),
      framing: { kind: 'none' },
      agent: pools.agentFor(session),
      maxBodyBytes: 1 << 20,
      timeoutMs: 5_000,
      now: () => performance.now(),
    });
  const free = (session: string): Socket[] => Object.values(pools.agentFor(session).freeSockets).flat() as Socket[];
  try {
    await viaTls('a');
    await new Promise((r) => setImmediate(r));
    const first = free('a')[0];
    assert.ok(first, "the socket went back to session a's pool");
    await viaTls('a');
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(free('a'), [first], 'session a reused it');
    assert.equal(free('b').length, 0, 'session b has a pool of its own');
    await viaTls('b');
    await new Promise((r) => setImmediate(r));
    assert.notEqual(free('b')[0], first);
    pools.release('a');
    assert.ok(first.destroyed, "a released session's sockets are destroyed");
    assert.equal(pools.size, 1);
  } finally {
    pools.releaseAll();
    await dd.close();
  }
});

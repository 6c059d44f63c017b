import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { finished } from 'node:stream/promises';
import fc from 'fast-check';
import { canonicalRequest, type CanonicalRequest } from '../../appliance/pipeline/canonical-request.js';
import { forward } from '../../appliance/proxy/forward.js';

// The parser property of issue #11: for every generated request the canonical parser accepts,
// what a second llhttp (a real Node http server) parses from the bytes forward() sends equals
// the canonical view, and exactly one request arrives on that upstream connection. Raw bytes go
// into a real Node http server (llhttp, as in Airlock's engine); loopback only, in process.

interface Seen {
  method: string;
  url: string;
  body: number;
}
interface UpConn {
  readonly requests: Seen[];
  errors: number;
  readonly closed: Promise<void>;
}

let upstream: http.Server;
let front: http.Server;
let upConns: UpConn[] = [];
let lastCanon: CanonicalRequest | null = null;
let agent: http.Agent;

before(async () => {
  upstream = http.createServer((req, res) => {
    const conn = (req.socket as net.Socket & { airlock?: UpConn }).airlock!;
    let n = 0;
    req.on('data', (c: Buffer) => (n += c.length));
    req.on('end', () => {
      conn.requests.push({ method: req.method ?? '', url: req.url ?? '', body: n });
      res.end('ok');
    });
  });
  upstream.on('connection', (socket: net.Socket & { airlock?: UpConn }) => {
    const conn: UpConn = { requests: [], errors: 0, closed: new Promise((r) => socket.once('close', () => r())) };
    socket.airlock = conn;
    upConns.push(conn);
  });
  upstream.on('clientError', (_err, socket: net.Socket & { airlock?: UpConn }) => {
    if (socket.airlock) socket.airlock.errors++;
    socket.destroy();
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  const upPort = (upstream.address() as AddressInfo).port;

  front = http.createServer((req, res) => {
    let canon: CanonicalRequest;
    try {
      canon = canonicalRequest({ method: req.method, target: req.url ?? '/', rawHeaders: req.rawHeaders }, { host: 'api.datadoghq.com', port: 443 });
    } catch {
      req.resume();
      res.writeHead(400, { 'content-length': '0' }).end();
      return;
    }
    lastCanon = canon;
    forward({
      destination: { host: 'api.datadoghq.com', address: '127.0.0.1', port: upPort, family: 4, pinned: true },
      tls: false,
      method: canon.method,
      path: canon.target,
      headers: [...canon.headers, 'Host', 'api.datadoghq.com'],
      body: req,
      framing: canon.framing,
      agent,
      maxBodyBytes: 1 << 20,
      timeoutMs: 5_000,
      now: () => performance.now(),
    }).then(
      async (out) => {
        if (out.rest) await finished(out.rest.resume());
        res.writeHead(200, { 'content-length': '0' }).end();
      },
      () => res.writeHead(502, { 'content-length': '0' }).end(),
    );
  });
  await new Promise<void>((r) => front.listen(0, '127.0.0.1', r));
});

after(async () => {
  front.closeAllConnections();
  upstream.closeAllConnections();
  await new Promise((r) => front.close(r));
  await new Promise((r) => upstream.close(r));
});

function sendRaw(bytes: string): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const s = net.connect((front.address() as AddressInfo).port, '127.0.0.1', () => s.write(Buffer.from(bytes, 'latin1')));
    const timer = setTimeout(() => s.destroy(), 5_000);
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('error', () => undefined);
    s.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('latin1'));
    });
  });
}

const segment = fc.oneof(
  fc.constantFrom('.', '..', '', '%2e', '%2E%2e', '%3A', '%41', '%2F', '%5c', '%zz', '%00', 'a;b', 'v1', 'input', 'api_keys', '~x'),
  fc.stringMatching(/^[A-Za-z0-9_-]{1,8}$/),
);
const requestArb = fc.record({
  method: fc.constantFrom('GET', 'HEAD', 'DELETE', 'OPTIONS', 'POST', 'PUT', 'PATCH'),
  segments: fc.array(segment, { maxLength: 6 }),
  query: fc.option(fc.stringMatching(/^[A-Za-z0-9=&%;_.-]{0,12}$/), { nil: undefined }),
  absolute: fc.constantFrom(
    '',
    '',
    'https://api.datadoghq.com',
    'HTTPS://API.DATADOGHQ.COM',
    'https://api.datadoghq.com:443',
    'http://api.datadoghq.com',
    'https://other.example',
    'https://k@api.datadoghq.com',
  ),
  nominated: fc.subarray(['content-length', 'transfer-encoding', 'host', 'x-a', 'keep-alive']),
  // Bodies that look like requests are the interesting ones.
  body: fc.oneof(
    fc.constant(''),
    fc.constant('GET /api/v2/api_keys HTTP/1.1\r\nX-Ignore: '),
    fc.string({ maxLength: 120 }).map((s) => s.replace(/[^\x20-\x7e\r\n]/g, 'x')),
  ),
  framing: fc.constantFrom('length', 'chunked', 'none'),
  chunks: fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 6 }),
});

type GeneratedRequest = typeof requestArb extends fc.Arbitrary<infer T> ? T : never;

function encode(r: GeneratedRequest): { bytes: string; bodyLength: number } {
  const target = `${r.absolute}/${r.segments.join('/')}${r.query === undefined ? '' : `?${r.query}`}`;
  const framing = r.body === '' && r.framing === 'none' ? 'none' : r.framing === 'none' ? 'length' : r.framing;
  let head = `${r.method} ${target} HTTP/1.1\r\nHost: api.datadoghq.com\r\nConnection: ${['close', ...r.nominated].join(', ')}\r\nX-A: 1\r\n`;
  let body = '';
  if (framing === 'length') {
    head += `Content-Length: ${r.body.length}\r\n`;
    body = r.body;
  } else if (framing === 'chunked') {
    head += 'Transfer-Encoding: chunked\r\n';
    let at = 0;
    for (const n of r.chunks) {
      if (at >= r.body.length) break;
      const piece = r.body.slice(at, at + n);
      at += piece.length;
      body += `${piece.length.toString(16)}\r\n${piece}\r\n`;
    }
    if (at < r.body.length) body += `${(r.body.length - at).toString(16)}\r\n${r.body.slice(at)}\r\n`;
    body += '0\r\n\r\n';
  }
  return { bytes: `${head}\r\n${body}`, bodyLength: r.body.length };
}

test('for every request the canonical parser accepts, the upstream llhttp parses exactly one request with the canonical method, target and body length', async () => {
  let accepted = 0;
  await fc.assert(
    fc.asyncProperty(requestArb, async (r) => {
      upConns = [];
      lastCanon = null;
      agent = new http.Agent({ keepAlive: true });
      const { bytes, bodyLength } = encode(r);
      const answer = await sendRaw(bytes);
      agent.destroy();
      await Promise.all(upConns.map((c) => c.closed));
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1]);
      if (status !== 200) {
        // Refused (or failed) before a byte went upstream.
        assert.deepEqual(
          upConns.flatMap((c) => c.requests),
          [],
          `refused with ${status} but forwarded`,
        );
        return;
      }
      accepted++;
      const canon = lastCanon as CanonicalRequest | null;
      assert.ok(canon);
      assert.equal(upConns.length, 1, 'one upstream connection');
      const conn = upConns[0]!;
      assert.equal(conn.errors, 0, 'the upstream parser saw no stray bytes');
      assert.deepEqual(conn.requests, [{ method: canon.method, url: canon.target, body: canon.method === 'HEAD' ? 0 : bodyLength }]);
    }),
    { numRuns: 200 },
  );
  assert.ok(accepted > 20, `only ${accepted} generated requests were accepted: the generator needs more valid ones`);
});

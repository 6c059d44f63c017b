// Finding 6 of issue #11: the control socket is an HTTP server on a Unix socket; whatever bytes
// arrive there (bad escapes, bad JSON, huge bodies and headers, clients that stall or half-close),
// it answers in Airlock's error shape with a stable code, or closes the connection, and keeps serving.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { join } from 'node:path';
import fc from 'fast-check';
import { startAirlock, type Airlock } from '../fixtures/airlock-process.js';
import { assertNoSecrets, assertRefusal, parseResponses } from '../fixtures/refusal-helpers.js';

/** Writes bytes to a Unix socket and collects what comes back until the server closes (or `ms`). */
function sendUnix(path: string, bytes: string | Buffer, o: { ms?: number; halfClose?: boolean } = {}): Promise<{ text: string; closedByServer: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const sock = net.connect({ path, allowHalfOpen: true });
    let done = false;
    const finish = (closedByServer: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve({ text: Buffer.concat(chunks).toString('latin1'), closedByServer });
    };
    const timer = setTimeout(() => finish(false), o.ms ?? 2_000);
    sock.on('data', (c: Buffer) => chunks.push(c));
    sock.on('end', () => finish(true));
    sock.on('close', () => finish(true));
    sock.on('error', (err: NodeJS.ErrnoException) => {
      // The server may reset a connection it refuses (EPIPE/ECONNRESET): that is a close, not a failure.
      if (err.code === 'EPIPE' || err.code === 'ECONNRESET') finish(true);
      else if (!done) {
        done = true;
        clearTimeout(timer);
        reject(err);
      }
    });
    sock.on('connect', () => {
      sock.write(bytes);
      if (o.halfClose) sock.end();
    });
  });
}

const req = (method: string, path: string, headers: string[] = [], body = ''): string =>
  `${method} ${path} HTTP/1.1\r\nHost: x\r\n${headers.map((h) => `${h}\r\n`).join('')}Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;

describe('the control socket under hostile input', () => {
  let a: Airlock;
  let sock: string;

  before(async () => {
    a = await startAirlock();
    sock = join(a.stateDir, 'control.sock');
  });
  after(async () => {
    await a?.cleanup();
  });

  /** The server process is up and a well-formed control request is answered. */
  async function assertServing(what: string): Promise<void> {
    assert.equal(a.child?.exitCode, null, `${what}: airlock exited (${a.stderr.join('').slice(0, 500)})`);
    assert.equal(a.child?.signalCode, null, `${what}: airlock was killed`);
    const r = parseResponses((await sendUnix(sock, req('GET', '/v1/approvals'))).text);
    assert.equal(r.status, 200, `${what}: GET /v1/approvals answered ${r.status} ${r.body}`);
    assert.deepEqual(JSON.parse(r.body), { pending: [] });
  }

  test('a malformed percent-escape in a session id is answered 400 BAD_REQUEST and the server keeps serving', async () => {
    const { text } = await sendUnix(sock, req('POST', '/v1/sessions/%E0%A4%A/close'));
    assertRefusal(parseResponses(text), 400, 'BAD_REQUEST');
    assert.match(text, /percent-escape/);
    await assertServing('after the URIError repro');
    const ls = await a.cli(['approvals', 'ls']);
    assert.equal(ls.code, 0, ls.stderr);
    assert.match(ls.stdout, /no requests are waiting/);
    assertNoSecrets(a, []);
  });

  test('bad escapes, unknown endpoints, wrong methods, bad JSON and oversized bodies and heads each get their stable code', async () => {
    const cases: [string, string | Buffer, number, 'BAD_REQUEST' | 'NOT_FOUND' | 'BODY_TOO_LARGE' | 'HOLD_NOT_FOUND' | 'SESSION_NOT_OPEN'][] = [
      ['bad escape in a hold id', req('POST', '/v1/approvals/%ZZ/approve', [], '{"by":"alice"}'), 400, 'BAD_REQUEST'],
      ['truncated escape', req('POST', '/v1/approvals/%/deny', [], '{"by":"alice"}'), 400, 'BAD_REQUEST'],
      ['overlong UTF-8 escape', req('POST', '/v1/sessions/%C0%AF/close'), 400, 'BAD_REQUEST'],
      ['a query string', req('GET', '/v1/approvals?x=%E0'), 400, 'BAD_REQUEST'],
      ['an unknown endpoint', req('GET', '/v1/nothing'), 404, 'NOT_FOUND'],
      ['GET on a POST endpoint', req('GET', '/v1/sessions/abc/close'), 404, 'NOT_FOUND'],
      ['DELETE on the list', req('DELETE', '/v1/approvals'), 404, 'NOT_FOUND'],
      ['an absolute-form target', req('GET', 'http://x/v1/approvals'), 400, 'BAD_REQUEST'],
      ['a JSON body that is not JSON', req('POST', '/v1/approvals/0123456789ab/approve', ['Content-Type: application/json'], '{"by":'), 400, 'BAD_REQUEST'],
      ['a JSON array body', req('POST', '/v1/approvals/0123456789ab/approve', [], '["by"]'), 400, 'BAD_REQUEST'],
      ['a decider name with a newline', req('POST', '/v1/approvals/0123456789ab/approve', [], '{"by":"a\\nb"}'), 400, 'BAD_REQUEST'],
      ['a hold that does not exist', req('POST', '/v1/approvals/0123456789ab/approve', [], '{"by":"alice"}'), 404, 'HOLD_NOT_FOUND'],
      ['a session that is not open', req('POST', '/v1/sessions/20260101T000000Z-00000000/close'), 404, 'SESSION_NOT_OPEN'],
      ['a session id with a NUL', req('POST', '/v1/sessions/a%00b/close'), 404, 'SESSION_NOT_OPEN'],
      ['a declared 10 MB body', `POST /v1/approvals/0123456789ab/deny HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n{"by":"a"`, 413, 'BODY_TOO_LARGE'],
      [
        'a chunked body past the cap',
        `POST /v1/outbox/flush HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n10000\r\n${'x'.repeat(0x10000)}\r\n`,
        413,
        'BODY_TOO_LARGE',
      ],
      ['a 64 KiB header', `GET /v1/approvals HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(65_536)}\r\n\r\n`, 400, 'BAD_REQUEST'],
      ['garbage instead of a request line', Buffer.from([0x16, 0x03, 0x01, 0x00, 0xff, 0x0d, 0x0a, 0x0d, 0x0a]), 400, 'BAD_REQUEST'],
    ];
    for (const [what, bytes, status, code] of cases) {
      const { text } = await sendUnix(sock, bytes);
      let r;
      try {
        r = parseResponses(text);
      } catch {
        assert.fail(`${what}: no HTTP answer, got ${JSON.stringify(text.slice(0, 120))}`);
      }
      assertRefusal(r, status, code);
    }
    await assertServing('after the table of bad requests');
  });

  test('a control connection that never finishes its head is closed by the server within its header timeout', async () => {
    const started = Date.now();
    const r = await sendUnix(sock, 'GET /v1/appro', { ms: 15_000 });
    assert.ok(r.closedByServer, 'the server closed the stalled connection');
    assert.ok(Date.now() - started < 12_000, `closed after ${Date.now() - started} ms`);
    await assertServing('after a stalled client');
  });

  test('a bounded fuzz of random bytes, bad escapes, huge bodies and heads and half-open connections never takes the server down', async () => {
    const segment = fc.oneof(
      fc.string({ maxLength: 12 }).map(encodeURIComponent),
      fc.constantFrom('%', '%E0%A4%A', '%ZZ', '%C0%AF', '%FF', '%00', '%2F', '..', '.', '', '%u0041', '%%41'),
      fc.string({ unit: 'binary', maxLength: 8 }),
    );
    const path = fc.oneof(
      fc
        .tuple(fc.constantFrom('/v1/sessions/', '/v1/approvals/'), segment, fc.constantFrom('/close', '/approve', '/deny', '', '/x'))
        .map(([p, s, t]) => `${p}${s}${t}`),
      fc.array(segment, { maxLength: 5 }).map((s) => `/${s.join('/')}`),
      fc.string({ unit: 'binary', maxLength: 40 }),
    );
    const method = fc.oneof(fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'OPTIONS', 'PATCH', 'CONNECT', 'TRACE'), fc.string({ maxLength: 10 }));
    const body = fc.oneof(
      fc.constant(''),
      fc.json({ maxDepth: 3 }),
      fc.record({ by: fc.string({ maxLength: 80 }), note: fc.string({ maxLength: 600 }) }).map((o) => JSON.stringify(o)),
      fc.integer({ min: 16 * 1024, max: 300 * 1024 }).map((n) => 'y'.repeat(n)),
    );
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 2_000 }).map((u) => Buffer.from(u)),
      fc.tuple(method, path, body).map(([m, p, b]) => req(m, p, [], b)),
      fc.tuple(method, path, body).map(([m, p, b]) => req(m, p, ['Transfer-Encoding: chunked'], b)),
      fc.tuple(path, fc.integer({ min: 1_000, max: 200_000 })).map(([p, n]) => `GET ${p} HTTP/1.1\r\nHost: x\r\nX-H: ${'h'.repeat(n)}\r\n\r\n`),
      fc.tuple(method, path).map(([m, p]) => `${m} ${p} HTTP/1.1\r\nHost: x\r\n`),
    );
    const input = fc.record({ bytes, halfClose: fc.boolean() });
    const batches = fc.sample(fc.array(input, { minLength: 20, maxLength: 20 }), { seed: 0x11c0, numRuns: 8 });
    let n = 0;
    for (const batch of batches) {
      await Promise.all(batch.map((c) => sendUnix(sock, c.bytes, { ms: 400, halfClose: c.halfClose }).catch(() => undefined)));
      n += batch.length;
      await assertServing(`after ${n} fuzzed inputs`);
    }
    // Many connections that never send a byte: a normal request still gets through.
    const idle = await Promise.all(
      Array.from(
        { length: 100 },
        () =>
          new Promise<net.Socket>((resolve) => {
            const s = net.connect({ path: sock, allowHalfOpen: true }, () => resolve(s));
            s.on('error', () => undefined);
          }),
      ),
    );
    try {
      await assertServing('with 100 idle connections open');
    } finally {
      for (const s of idle) s.destroy();
    }
    const ls = await a.cli(['approvals', 'ls', '--json']);
    assert.equal(ls.code, 0, ls.stderr);
    assert.deepEqual(JSON.parse(ls.stdout), []);
    assertNoSecrets(a, []);
  });
});

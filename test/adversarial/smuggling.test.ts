import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { startAirlock, type Airlock } from '../fixtures/airlock-process.js';
import { assertNoSecrets, assertRefusal, parseResponses, sendRaw } from '../fixtures/refusal-helpers.js';
import { assertNowhere, chunked, exchange, harOf, type HarEntry } from './tunnel-witness.js';

// Finding 1 of issue #11: a body the proxy forwards without framing becomes the head of the next
// request on the shared upstream socket (possibly another session's, carrying its vaulted key).
// Each case sends the attack by hand, then ordinary requests of the same and of another session,
// and checks with the fake Datadog what actually arrived.

const PREFIX = 'GET /api/v2/api_keys/newkey HTTP/1.1\r\nX-Ignore: ';
const AGENT_KEY = '0123456789abcdef0123456789abcdef';

describe('request smuggling through the forwarded body', () => {
  let a: Airlock;
  const tokens: string[] = [];
  let n = 0;
  const mint = async (run: string): Promise<string> => {
    const t = await a.issuer.mint({ repository_id: '123456', ref: 'refs/heads/main', run_id: run });
    tokens.push(t);
    return t;
  };
  before(async () => {
    a = await startAirlock();
  });
  after(async () => {
    await a?.cleanup();
  });

  /**
   * The HAR entries of the session minted for `run` only. Exporting every open session instead
   * (one CLI process each) made each case slower than the last: a session of each earlier case
   * stays open, and at load 20 the file outgrew test/run.mjs's 180 s.
   */
  async function entriesOf(run: string): Promise<HarEntry[]> {
    const ls = await a.cli(['sessions', 'ls', '--json']);
    assert.equal(ls.code, 0, ls.stderr);
    const s = (JSON.parse(ls.stdout) as { id: string; claims: Record<string, unknown> }[]).find((x) => x.claims['run_id'] === run);
    assert.ok(s, `a session for ${run}`);
    return harOf(a, s.id);
  }

  /**
   * The attack request (head lines after the Host line, then the body bytes), then one ordinary
   * request on a new connection of the same session and one of another session.
   */
  async function attack(method: string, head: string, body: string, smuggled: string): Promise<void> {
    const tag = `case-${++n}`;
    const tokenA = await mint(`${tag}-a`);
    const tokenB = await mint(`${tag}-b`);
    const since = a.datadog.received.length;
    const first = await exchange(a, tokenA, `${method} /api/v1/validate?${tag} HTTP/1.1\r\nHost: api.datadoghq.com\r\n${head}\r\n${body}`);
    const same = await exchange(a, tokenA, 'GET /api/v1/validate HTTP/1.1\r\nHost: api.datadoghq.com\r\nConnection: close\r\n\r\n');
    const other = await exchange(a, tokenB, 'GET /api/v1/validate HTTP/1.1\r\nHost: api.datadoghq.com\r\nConnection: close\r\n\r\n');
    assert.equal(same.status, 200, same.raw);
    assert.equal(other.status, 200, other.raw);

    const got = a.datadog.received.slice(since);
    assert.deepEqual(
      got.map((r) => `${r.method} ${r.path}`),
      [`${method} /api/v1/validate?${tag}`, 'GET /api/v1/validate', 'GET /api/v1/validate'],
      'Datadog received exactly the three requests sent, none smuggled',
    );
    assert.equal(got[0]!.body.toString('latin1'), method === 'HEAD' ? '' : smuggled, "the attack body arrived as that request's body");
    for (const r of got) {
      assert.equal(r.headers['dd-api-key'], a.apiKey, 'each request carries the vaulted key it was given');
      assert.equal(r.headers['host'], 'api.datadoghq.com');
      assert.ok(!r.body.toString('latin1').includes(a.apiKey) && !r.body.toString('latin1').includes(a.appKey), 'no vaulted key in a body');
    }
    assertNowhere(a, AGENT_KEY, since, [first.raw, same.raw, other.raw]);
    assertNoSecrets(a, tokens, [first.raw, same.raw, other.raw]);

    // The attack is recorded with its body, and the session's HAR verifies.
    const entry = (await entriesOf(`${tag}-a`)).find((e) => e.request.url === `https://api.datadoghq.com/api/v1/validate?${tag}`);
    assert.ok(entry, 'the attack request is recorded');
    if (method !== 'HEAD') assert.equal(entry._airlock.decision, 'forwarded');
    if (method !== 'HEAD') assert.equal(entry.request.postData?.text, smuggled);
    // The recording names the framing that was actually sent.
    const framingOf = (pairs: [string, string][]): string[] =>
      pairs.filter(([k]) => /^(content-length|transfer-encoding)$/i.test(k)).map(([k, v]) => `${k.toLowerCase()}: ${v}`);
    const sentPairs: [string, string][] = [];
    for (let i = 0; i + 1 < got[0]!.rawHeaders.length; i += 2) sentPairs.push([got[0]!.rawHeaders[i]!, got[0]!.rawHeaders[i + 1]!]);
    assert.deepEqual(framingOf(entry.request.headers.map((h) => [h.name, h.value])), framingOf(sentPairs));
    const id = entry._airlock.session!;
    const closed = await a.cli(['sessions', 'close', id]);
    assert.equal(closed.code, 0, closed.stderr);
    const v = await a.cli(['sessions', 'verify', join(a.stateDir, 'sessions', `${id}.har`)]);
    assert.equal(v.code, 0, v.stdout + v.stderr);
  }

  for (const method of ['GET', 'HEAD', 'DELETE', 'OPTIONS']) {
    test(`${method} with Transfer-Encoding: chunked forwards its body framed; nothing is smuggled into the next request`, async () => {
      await attack(method, 'Transfer-Encoding: chunked\r\nConnection: close\r\n', chunked(PREFIX, [7, 13]), PREFIX);
    });
  }

  test('GET with Content-Length and `Connection: content-length` is forwarded with its Content-Length', async () => {
    await attack('GET', `Content-Length: ${PREFIX.length}\r\nConnection: content-length, close\r\n`, PREFIX, PREFIX);
  });

  test('GET with chunked body and `Connection: transfer-encoding` is forwarded framed', async () => {
    await attack('GET', 'Transfer-Encoding: chunked\r\nConnection: transfer-encoding, close\r\n', chunked(PREFIX), PREFIX);
  });

  test('`Connection: host, dd-api-key` removes neither the Host Airlock sets nor the vaulted key', async () => {
    await attack('GET', `DD-API-KEY: ${AGENT_KEY}\r\nContent-Length: ${PREFIX.length}\r\nConnection: host, dd-api-key, close\r\n`, PREFIX, PREFIX);
  });

  test('a body meant to swallow the next request (POST /echo, Content-Length: 500) stays the body of its own request', async () => {
    const swallow = 'POST /echo HTTP/1.1\r\nHost: api.datadoghq.com\r\nX-Swallow: 1\r\nContent-Length: 500\r\n\r\n';
    await attack('GET', 'Transfer-Encoding: chunked\r\nConnection: close\r\n', chunked(swallow, [5, 40]), swallow);
  });

  test('Transfer-Encoding other than exactly chunked is refused 400 BAD_REQUEST and nothing is forwarded', async () => {
    const token = await mint('te-gzip');
    const since = a.datadog.received.length;
    const r = await exchange(
      a,
      token,
      `POST /api/v1/validate HTTP/1.1\r\nHost: api.datadoghq.com\r\nTransfer-Encoding: gzip, chunked\r\nConnection: close\r\n\r\n${chunked(PREFIX)}`,
    );
    assertRefusal(r, 400, 'BAD_REQUEST');
    assert.equal(a.datadog.received.length, since);
    const entry = (await entriesOf('te-gzip')).find((e) => e._airlock.errorCode === 'BAD_REQUEST' && e.request.method === 'POST');
    assert.ok(entry, 'the refusal is recorded');
  });

  test('Content-Length with Transfer-Encoding is refused 400 by the parser and nothing is forwarded', async () => {
    const token = await mint('cl-te');
    const since = a.datadog.received.length;
    const r = await exchange(
      a,
      token,
      `GET /api/v1/validate HTTP/1.1\r\nHost: api.datadoghq.com\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n${chunked(PREFIX)}`,
    );
    assert.equal(r.status, 400, r.raw);
    assert.equal(r.headers['x-airlock-error'], 'BAD_REQUEST');
    assert.equal(a.datadog.received.length, since);
  });

  test('two Host headers are refused 400 BAD_REQUEST and nothing is forwarded', async () => {
    const token = await mint('two-hosts');
    const since = a.datadog.received.length;
    const r = await exchange(a, token, 'GET /api/v1/validate HTTP/1.1\r\nHost: api.datadoghq.com\r\nHost: evil.example\r\nConnection: close\r\n\r\n');
    assertRefusal(r, 400, 'BAD_REQUEST');
    assert.equal(a.datadog.received.length, since);
  });

  test('the process still serves a normal request afterwards', async () => {
    const r = await exchange(a, await mint('after'), 'GET /api/v1/validate HTTP/1.1\r\nHost: api.datadoghq.com\r\nConnection: close\r\n\r\n');
    assert.equal(r.status, 200, r.raw);
    assertNoSecrets(a, tokens, [r.raw]);
  });
});

describe('request smuggling through the plain-HTTP passthrough forwarder', () => {
  let a: Airlock;
  let origin: http.Server;
  const conns: { requests: string[]; errors: number; closed: Promise<void> }[] = [];
  before(async () => {
    origin = http.createServer((req, res) => {
      const c = (req.socket as net.Socket & { rec?: (typeof conns)[number] }).rec!;
      let body = '';
      req.setEncoding('latin1');
      req.on('data', (d: string) => (body += d));
      req.on('end', () => {
        c.requests.push(`${req.method} ${req.url} ${JSON.stringify(body)}`);
        res.end('ok');
      });
    });
    origin.on('connection', (s: net.Socket & { rec?: (typeof conns)[number] }) => {
      s.rec = { requests: [], errors: 0, closed: new Promise((r) => s.once('close', () => r())) };
      conns.push(s.rec);
    });
    origin.on('clientError', (_e, s: net.Socket & { rec?: (typeof conns)[number] }) => {
      if (s.rec) s.rec.errors++;
      s.destroy();
    });
    await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
    a = await startAirlock({ config: { passthrough: 'allow' }, extraResolve: { 'plain.example.org': `127.0.0.1:${(origin.address() as AddressInfo).port}` } });
  });
  after(async () => {
    await a?.cleanup();
    origin.closeAllConnections();
    await new Promise((r) => origin.close(r));
  });

  for (const method of ['GET', 'DELETE']) {
    test(`a plain ${method} with a chunked body reaches a passthrough host as one framed request`, async () => {
      conns.length = 0;
      const r = parseResponses(
        await sendRaw(
          a.port,
          `${method} http://plain.example.org/x HTTP/1.1\r\nHost: plain.example.org\r\nTransfer-Encoding: chunked\r\nConnection: transfer-encoding, close\r\n\r\n${chunked(PREFIX, [9])}`,
        ),
      );
      assert.equal(r.status, 200, r.raw);
      await Promise.all(conns.map((c) => c.closed));
      assert.deepEqual(
        conns.map((c) => ({ requests: c.requests, errors: c.errors })),
        [{ requests: [`${method} /x ${JSON.stringify(PREFIX)}`], errors: 0 }],
      );
    });
  }
});

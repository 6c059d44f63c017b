import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync, inflateRawSync, inflateSync } from 'node:zlib';
import { startAirlock, type Airlock } from '../fixtures/airlock-process.js';
import { assertNoSecrets, assertRefusal, parseResponses } from '../fixtures/refusal-helpers.js';
import { rawTlsExchange } from '../fixtures/raw-tls.js';
import { splitBigParts } from '../fixtures/fake-datadog.js';
import { waitFor } from '../fixtures/wait-for.js';

// Finding 5 of issue #11: a reflecting upstream (test/fixtures/fake-datadog.ts, /reflect/<how>)
// writes the vaulted key it was given into places masking used to miss. Requests and responses
// are raw bytes on both sides, so no client library decodes or normalizes anything away.

interface Raw {
  statusLine: string;
  status: number;
  headers: [string, string][];
  body: Buffer;
}

/** One HTTP/1.1 response as bytes: status line, every header line as sent, the dechunked body. */
function parseRaw(bytes: Buffer): Raw {
  const end = bytes.indexOf('\r\n\r\n');
  assert.ok(end > 0, `not an HTTP response: ${JSON.stringify(bytes.toString('latin1').slice(0, 200))}`);
  const [statusLine, ...lines] = bytes.subarray(0, end).toString('latin1').split('\r\n');
  const headers = lines.map((l): [string, string] => [l.slice(0, l.indexOf(':')).trim(), l.slice(l.indexOf(':') + 1).trim()]);
  let body = bytes.subarray(end + 4);
  if (headers.some(([n, v]) => n.toLowerCase() === 'transfer-encoding' && /chunked/i.test(v))) {
    const parts: Buffer[] = [];
    let at = 0;
    for (;;) {
      const eol = body.indexOf('\r\n', at);
      if (eol < 0) break;
      const size = parseInt(body.subarray(at, eol).toString('latin1'), 16);
      if (!Number.isFinite(size) || size === 0) break;
      parts.push(body.subarray(eol + 2, eol + 2 + size));
      at = eol + 2 + size + 2;
    }
    body = Buffer.concat(parts);
  }
  return { statusLine: statusLine!, status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine!)?.[1]), headers, body };
}

/** Every decoding of `body` a client could try, up to three layers deep, the raw bytes first. */
function decodings(body: Buffer, depth = 3): Buffer[] {
  const out = [body];
  if (depth === 0) return out;
  for (const d of [gunzipSync, brotliDecompressSync, inflateSync, inflateRawSync]) {
    try {
      out.push(...decodings(d(body), depth - 1));
    } catch {
      // not this coding
    }
  }
  return out;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

interface HarEntry {
  request: { url: string };
  response: { status: number; statusText: string; headers: { name: string; value: string }[]; content: { text?: string; encoding?: string } };
  _error?: string;
  _airlock: { decision?: string; errorCode?: string; masked?: string[] };
}

describe('a reflecting upstream cannot get the vaulted key to the client past masking', () => {
  let a: Airlock;
  let ca: string;
  const tokens: string[] = [];
  before(async () => {
    a = await startAirlock();
    ca = readFileSync(a.caPath, 'utf8');
  });
  after(async () => {
    await a?.cleanup();
  });

  /** The session of the request logged for `runId` (its `msg: "request"` line), once it is logged. */
  function sessionOf(runId: string): string | undefined {
    for (const l of a.logs) {
      if (!l.includes(runId)) continue;
      const line = JSON.parse(l) as { msg?: string; session?: string; identity?: Record<string, string> };
      if (line.msg === 'request' && line.identity?.['run_id'] === runId && line.session) return line.session;
    }
    return undefined;
  }

  /** Sends `GET /reflect/<how>` as raw bytes in its own session; returns what the client got and the session's HAR entry. */
  async function reflect(how: string): Promise<{ bytes: Buffer; r: Raw; entry: HarEntry; exported: string }> {
    const runId = `reflect-${how}`;
    const token = await a.issuer.mint({ repository_id: '123456', ref: 'refs/heads/main', run_id: runId });
    tokens.push(token);
    const before = a.datadog.received.length;
    const text = await rawTlsExchange({
      port: a.port,
      ca,
      proxyAuth: `Bearer ${token}`,
      request: `GET /reflect/${how} HTTP/1.1\r\nHost: api.datadoghq.com\r\nAccept-Encoding: gzip, deflate, br\r\nConnection: close\r\n\r\n`,
    });
    const bytes = Buffer.from(text, 'latin1');
    // The reflecting endpoint was reached, with the vaulted key: the reflection really happened.
    const got = a.datadog.received.slice(before);
    assert.equal(got.length, 1);
    assert.equal(got[0]!.headers['dd-api-key'], a.apiKey);

    // The session from Airlock's request log line, whose identity carries the job's run_id: one
    // CLI process per case (the export) instead of two, which kept the file inside test/run.mjs's
    // per-file budget on a loaded machine.
    const session = await waitFor(`the request log line of ${runId}`, () => sessionOf(runId));
    const ex = await a.cli(['sessions', 'export', session]);
    assert.equal(ex.code, 0, ex.stderr);
    const entries = (JSON.parse(ex.stdout) as { log: { entries: HarEntry[] } }).log.entries;
    const entry = entries.find((e) => e.request.url.endsWith(`/reflect/${how}`));
    assert.ok(entry, `the HAR records /reflect/${how}`);
    return { bytes, r: parseRaw(bytes), entry, exported: ex.stdout };
  }

  /** The key is nowhere: not in the client's bytes (nor any decoding of its body), the state directory, the export, the logs. */
  function assertKeyNowhere(got: { bytes: Buffer; r: Raw; exported: string }): void {
    const key = a.apiKey;
    assert.ok(!got.bytes.toString('latin1').includes(key), 'the vaulted key reached the client in the clear');
    for (const d of decodings(got.r.body)) assert.ok(!d.toString('latin1').includes(key), 'the vaulted key reached the client inside a coded body');
    for (const f of filesUnder(join(a.stateDir, 'sessions'))) {
      assert.ok(!readFileSync(f).toString('latin1').includes(key), `the vaulted key is in ${f}`);
    }
    assertNoSecrets(a, tokens, [got.bytes.toString('latin1'), got.exported]);
  }

  /** What the client got carries no coding it would still have to undo. */
  function assertNoCodings(r: Raw): void {
    for (const [n, v] of r.headers) {
      if (n.toLowerCase() === 'content-encoding') assert.match(v, /^identity$/i, `Content-Encoding: ${v} reached the client`);
      if (n.toLowerCase() === 'transfer-encoding') assert.match(v, /^chunked$/i, `Transfer-Encoding: ${v} reached the client`);
    }
  }

  /** A masked JSON body: delivered decoded, the key replaced, the HAR the same as the client's bytes. */
  async function assertMaskedBody(how: string): Promise<void> {
    const got = await reflect(how);
    assert.equal(got.r.status, 200, got.r.statusLine);
    for (const d of decodings(got.r.body)) assert.ok(!d.toString('latin1').includes(a.apiKey), 'the vaulted key reached the client inside a coded body');
    assertNoCodings(got.r);
    const shown = JSON.parse(got.r.body.toString('utf8')) as { you_sent: string };
    assert.equal(shown.you_sent, '[masked:credential]');
    assert.equal(got.entry.response.status, 200);
    assert.equal(got.entry.response.content.text, got.r.body.toString('utf8'), 'the HAR records what the client saw');
    assert.ok(!got.entry.response.headers.some((h) => /^(content|transfer)-encoding$/i.test(h.name)), 'the HAR shows no coding the client did not get');
    assert.ok(got.entry._airlock.masked?.includes('credential'));
    assertKeyNowhere(got);
  }

  async function assertEncodingRefused(how: string): Promise<void> {
    const got = await reflect(how);
    assertKeyNowhere(got);
    assertRefusal(parseResponses(got.bytes.toString('latin1')), 502, 'UPSTREAM_ENCODING');
    assert.equal(got.entry._airlock.errorCode, 'UPSTREAM_ENCODING');
    assert.match(got.entry._error ?? '', /coding/);
  }

  test('the key in the status reason phrase is masked for the client and in the HAR', async () => {
    const got = await reflect('reason');
    assert.equal(got.r.statusLine, 'HTTP/1.1 200 OK [masked:credential]');
    assert.equal(got.entry.response.statusText, 'OK [masked:credential]');
    assert.ok(got.entry._airlock.masked?.includes('credential'));
    assertKeyNowhere(got);
  });

  test('a header whose name carries the key is dropped, and the HAR says so under masked', async () => {
    const got = await reflect('header-name');
    assert.equal(got.r.status, 200, got.r.statusLine);
    assert.ok(!got.r.headers.some(([n]) => n.toLowerCase().startsWith('x-ddapi')), 'the header reached the client');
    assert.ok(!got.entry.response.headers.some((h) => h.name.toLowerCase().startsWith('x-ddapi')), 'the header is in the HAR');
    assert.ok(got.entry._airlock.masked?.includes('credential'));
    assert.ok(got.entry._airlock.masked?.includes('header-name-dropped'), JSON.stringify(got.entry._airlock.masked));
    assertKeyNowhere(got);
  });

  test('a body compressed twice under two Content-Encoding: gzip lines is decoded fully and masked', async () => {
    await assertMaskedBody('double-gzip');
  });

  test('a streamed body (beyond maxBodyBytes) under two Content-Encoding: gzip lines is decoded fully and masked', async () => {
    const got = await reflect('double-gzip-big');
    assert.equal(got.r.status, 200, got.r.statusLine);
    for (const d of decodings(got.r.body)) assert.ok(!d.toString('latin1').includes(a.apiKey), 'the vaulted key reached the client inside a coded body');
    assertNoCodings(got.r);
    const shown = JSON.parse(got.r.body.toString('utf8')) as { you_sent: string; again: string };
    assert.equal(shown.you_sent, '[masked:credential]');
    assert.equal(shown.again, '[masked:credential]');
    const text = got.entry.response.content.text ?? '';
    assert.ok(text.length > 0 && got.r.body.toString('utf8').startsWith(text), 'the HAR records the prefix the client saw');
    assert.ok(got.entry._airlock.masked?.includes('credential'));
    assertKeyNowhere(got);
  });

  test('an uncoded streamed body (beyond maxBodyBytes) with the key split across upstream writes, one byte per write too, is masked', async () => {
    const got = await reflect('split-big');
    assert.equal(got.r.status, 200, got.r.statusLine);
    const [filler] = splitBigParts(a.apiKey);
    assert.equal(got.r.body.toString('latin1'), `${filler} k1=[masked:credential] k2=[masked:credential] k3=[masked:credential] end`);
    const text = got.entry.response.content.text ?? '';
    assert.ok(text.length > 0 && got.r.body.toString('latin1').startsWith(text), 'the HAR records the prefix the client saw');
    assertKeyNowhere(got);
  });

  test('Content-Encoding: gzip, br is decoded layer by layer and masked', async () => {
    await assertMaskedBody('gzip-br');
  });

  test('Content-Encoding: deflate, identity (and an identity line) is decoded and masked', async () => {
    await assertMaskedBody('deflate-identity');
  });

  test('Transfer-Encoding: gzip, chunked is decoded and masked, and reaches the client without the gzip transfer coding', async () => {
    await assertMaskedBody('te-gzip');
  });

  test('Transfer-Encoding: gzip without chunked (body to the close) is decoded and masked', async () => {
    await assertMaskedBody('te-gzip-close');
  });

  test('Transfer-Encoding: chunked, gzip (chunked not last, so never dechunked) is refused with 502 UPSTREAM_ENCODING', async () => {
    await assertEncodingRefused('te-chunked-gzip');
  });

  test('an unknown Content-Encoding x-foo is refused with 502 UPSTREAM_ENCODING and recorded', async () => {
    await assertEncodingRefused('x-foo');
  });

  test('a coding named after the key is refused with 502 UPSTREAM_ENCODING, and the error does not name the key', async () => {
    await assertEncodingRefused('coding-name');
  });

  test('a corrupt gzip body is refused with 502 UPSTREAM_ENCODING and recorded', async () => {
    await assertEncodingRefused('corrupt-gzip');
  });

  test('a gzip bomb (64 MiB decoded, beyond the 16 MiB cap) is refused with 502 UPSTREAM_ENCODING', async () => {
    await assertEncodingRefused('bomb');
  });

  test('Airlock is still alive and a normal request still works', async () => {
    assert.equal(a.child?.exitCode, null);
    const token = await a.issuer.mint({ repository_id: '123456', ref: 'refs/heads/main' });
    tokens.push(token);
    const text = await rawTlsExchange({
      port: a.port,
      ca,
      proxyAuth: `Bearer ${token}`,
      request: 'GET /api/v1/validate HTTP/1.1\r\nHost: api.datadoghq.com\r\nConnection: close\r\n\r\n',
    });
    const r = parseRaw(Buffer.from(text, 'latin1'));
    assert.equal(r.status, 200, r.statusLine);
    assert.deepEqual(JSON.parse(r.body.toString('utf8')), { valid: true });
    assertNoSecrets(a, tokens, [text]);
  });
});

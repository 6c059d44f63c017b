import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startAirlock, type Airlock } from '../fixtures/airlock-process.js';
import { assertNoSecrets } from '../fixtures/refusal-helpers.js';
import { exchangeOn, openRawTunnel, type RawTunnel } from '../fixtures/raw-tls.js';

// Coded bodies beyond recording.maxBodyBytes stream through the decoders into the masking pump
// (appliance/masking/decoded-body.ts). A real TLS upstream (test/fixtures/fake-datadog.ts,
// /coded-split and /coded-cut) sends gzip and br streams whose compressed parts arrive separately
// with the key split across them; the client reads raw bytes on a kept-alive tunnel.

const MASKED = '\\[masked:credential\\]';
const HEX_FILLER = 1536 * 1024 * 2;

interface Chunked {
  head: string;
  body: Buffer;
  /** The terminating zero-size chunk arrived. */
  complete: boolean;
}

/** The response starting at `from` in `raw`: head, dechunked body (as far as it goes), whether it ended. */
function parseChunked(raw: Buffer): Chunked {
  const end = raw.indexOf('\r\n\r\n');
  assert.ok(end > 0, 'a response head');
  const head = raw.subarray(0, end).toString('latin1');
  assert.match(head, /transfer-encoding: chunked/i, head);
  const parts: Buffer[] = [];
  let at = end + 4;
  for (;;) {
    const eol = raw.indexOf('\r\n', at);
    if (eol < 0) return { head, body: Buffer.concat(parts), complete: false };
    const size = parseInt(raw.subarray(at, eol).toString('latin1'), 16);
    assert.ok(Number.isInteger(size), `a chunk size at ${at}`);
    if (size === 0) return { head, body: Buffer.concat(parts), complete: true };
    // A cut mid-chunk: what arrived of it.
    parts.push(raw.subarray(eol + 2, Math.min(raw.length, eol + 2 + size)));
    if (eol + 2 + size + 2 > raw.length) return { head, body: Buffer.concat(parts), complete: false };
    at = eol + 2 + size + 2;
  }
}

const lastChunk = (from: number) => (b: Buffer) => b.indexOf('\r\n0\r\n\r\n', from) >= 0;

describe('a coded streamed body goes through the decoders and the masking pump', () => {
  let a: Airlock;
  let ca: string;
  const tokens: string[] = [];
  const texts: string[] = [];
  before(async () => {
    a = await startAirlock();
    ca = readFileSync(a.caPath, 'utf8');
  });
  after(async () => {
    await a?.cleanup();
  });

  async function tunnel(runId: string): Promise<RawTunnel> {
    const token = await a.issuer.mint({ repository_id: '123456', ref: 'refs/heads/main', run_id: runId });
    tokens.push(token);
    return openRawTunnel({ port: a.port, ca, proxyAuth: `Bearer ${token}` });
  }

  test('gzip then br, the key split across compressed chunks: masked, decoded, and the tunnel serves the next request', async () => {
    const t = await tunnel('coded-split');
    for (const coding of ['gzip', 'br']) {
      const from = t.received().length;
      t.socket.write(`GET /coded-split/${coding} HTTP/1.1\r\nHost: api.datadoghq.com\r\nAccept-Encoding: gzip, br\r\n\r\n`);
      const raw = (await t.readUntil(lastChunk(from), 30_000)).subarray(from);
      texts.push(raw.toString('latin1'));
      const r = parseChunked(raw);
      assert.match(r.head, /^HTTP\/1\.1 200 /, `${coding}: ${r.head}`);
      assert.ok(r.complete, `${coding}: the body ended with its last chunk`);
      assert.doesNotMatch(r.head, /content-encoding/i, `${coding}: delivered decoded, no coding left to undo`);
      assert.doesNotMatch(r.head, /connection: close/i, `${coding}: the connection is kept`);
      // The plain text the upstream compressed (codedSplitParts), key masked where it was split.
      const text = r.body.toString('latin1');
      assert.match(text, new RegExp(`^[0-9a-f]{${HEX_FILLER}} k1=${MASKED} k2=${MASKED} end$`), `${coding}: ${text.slice(-120)}`);
      assert.ok(!text.includes(a.apiKey));
    }
    // The same tunnel still answers.
    const next = await exchangeOn(t, 'GET /api/v1/validate HTTP/1.1\r\nHost: api.datadoghq.com\r\n\r\n');
    assert.match(next, /^HTTP\/1\.1 200 /);
    assert.ok(next.endsWith('{"valid":true}'), next);
    t.end();
    assertNoSecrets(a, tokens, texts);
  });

  for (const how of ['gzip', 'corrupt']) {
    test(`an upstream ${how === 'gzip' ? 'reset' : 'sending corrupt gzip'} mid-stream cuts the client's body: decoded, masked bytes only, never raw ones`, async () => {
      const t = await tunnel(`coded-cut-${how}`);
      t.socket.write(`GET /coded-cut/${how} HTTP/1.1\r\nHost: api.datadoghq.com\r\n\r\n`);
      const raw = await t.closed(30_000);
      texts.push(raw.toString('latin1'));
      const r = parseChunked(raw);
      assert.match(r.head, /^HTTP\/1\.1 200 /, r.head);
      assert.ok(!r.complete, 'the body is cut, not ended as if whole');
      assert.ok(t.socket.destroyed || t.socket.readableEnded, 'Airlock closed the connection');
      const text = r.body.toString('latin1');
      // Past the recorded prefix and the key, then cut somewhere in the second filler.
      assert.ok(text.length > HEX_FILLER, `${text.length} bytes arrived`);
      assert.match(text, new RegExp(`^[0-9a-f]{${HEX_FILLER}} k1=${MASKED} [0-9a-f]*$`), text.slice(HEX_FILLER - 10, HEX_FILLER + 80));
      assert.ok(text.length < 2 * HEX_FILLER + 40, 'not the whole body');
    });
  }

  test('Airlock is still alive and a normal request still works', async () => {
    assert.equal(a.child?.exitCode, null);
    const t = await tunnel('coded-after');
    const next = await exchangeOn(t, 'GET /api/v1/validate HTTP/1.1\r\nHost: api.datadoghq.com\r\n\r\n');
    assert.match(next, /^HTTP\/1\.1 200 /);
    t.end();
    assertNoSecrets(a, tokens, texts);
  });
});

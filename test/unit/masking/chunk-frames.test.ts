import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import tls from 'node:tls';
import { Readable } from 'node:stream';
import type { AddressInfo } from 'node:net';
import { createCa } from '../../../certs/create-ca.js';
import { LeafIssuer, sniCallbackFor } from '../../../certs/leaf-issuer.js';
import { textMasker } from '../../../appliance/masking/mask-text.js';
import { StreamMasker } from '../../../appliance/masking/mask-stream.js';
import { pumpMasked } from '../../../appliance/masking/pump-masked.js';
import { alignedPayload, RECORD } from '../../../appliance/masking/chunk-frames.js';

const KEY = 'ddapi0123456789abcdef0123456789ab';
const framed = (n: number): number => n + n.toString(16).length + 4;

test('alignedPayload: the largest payload whose chunk frame fills whole TLS records, or 0 below one record', () => {
  const sizes = [0, 1, RECORD - 9, RECORD - 8, RECORD - 7, RECORD, 4 * RECORD - 8, 4 * RECORD, 4096, 65535, 65536, 65537, 1048575, 1048576, 1048583, 1048584];
  for (let n = 0; n < 300_000; n += 977) sizes.push(n);
  for (const available of sizes) {
    const n = alignedPayload(available);
    if (framed(available) < RECORD) {
      assert.equal(n, 0, `${available}`);
      continue;
    }
    assert.ok(n > 0 && n <= available, `${available} -> ${n}`);
    assert.equal(framed(n) % RECORD, 0, `${available} -> ${n} frames to ${framed(n)}`);
    // No frame one record longer fits in what is available.
    const next = framed(n) + RECORD;
    for (let m = next - 12; m <= next; m++) if (framed(m) === next) assert.ok(m > available, `${available}: ${m} would fit`);
  }
});

/** A dechunked body, and its chunk sizes; null when `raw` is not chunked. */
function dechunk(raw: Buffer): { body: Buffer; sizes: number[] } {
  const sizes: number[] = [];
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = raw.indexOf('\r\n', at);
    assert.ok(eol > at, `a chunk size line at ${at}`);
    const size = parseInt(raw.subarray(at, eol).toString('latin1'), 16);
    assert.ok(Number.isInteger(size), `chunk size at ${at}`);
    if (size === 0) {
      assert.equal(raw.subarray(eol, eol + 4).toString('latin1'), '\r\n\r\n', 'the last chunk closes the body');
      assert.equal(eol + 4, raw.length, 'nothing after the last chunk');
      return { body: Buffer.concat(parts), sizes };
    }
    parts.push(raw.subarray(eol + 2, eol + 2 + size));
    assert.equal(raw.subarray(eol + 2 + size, eol + 4 + size).toString('latin1'), '\r\n', 'CRLF after the chunk data');
    sizes.push(size);
    at = eol + 4 + size;
  }
}

describe('a streamed masked body over real TLS: framed by hand while node frames the rest', () => {
  // 40 upstream chunks of one TLS record each, the key split across two chunk boundaries, some
  // chunks arriving together (one read) and some a loop turn apart.
  const chunks: Buffer[] = [];
  for (let i = 0; i < 40; i++) chunks.push(Buffer.alloc(RECORD, 0x61 + (i % 26)));
  chunks[9] = Buffer.concat([chunks[9]!.subarray(0, RECORD - 5), Buffer.from(KEY.slice(0, 5))]);
  chunks[10] = Buffer.concat([Buffer.from(KEY.slice(5)), chunks[10]!.subarray(KEY.length - 5)]);
  chunks[30] = Buffer.concat([chunks[30]!.subarray(0, RECORD - 1), Buffer.from(KEY.slice(0, 1))]);
  chunks[31] = Buffer.concat([Buffer.from(KEY.slice(1)), chunks[31]!.subarray(KEY.length - 1)]);
  const expected = Buffer.from(Buffer.concat(chunks).toString('latin1').split(KEY).join('[masked:credential]'), 'latin1');
  const held = [Buffer.from('held prefix ')];

  let server: https.Server;
  let port = 0;
  let ca = '';
  const pumped: number[] = [];
  before(async () => {
    const authority = createCa({ permittedDomains: ['example.test'], validityMs: 3_600_000, commonName: 'chunk-frames test CA' });
    ca = authority.certPem;
    server = https.createServer({ SNICallback: sniCallbackFor(new LeafIssuer(authority)) }, (req, res) => {
      req.resume();
      let i = 0;
      const rest = new Readable({
        read() {
          // Three chunks in one go, then a loop turn: as reads from a TLS socket come.
          setImmediate(() => {
            for (let k = 0; k < 3 && i < chunks.length; k++) this.push(chunks[i++]);
            if (i === chunks.length) this.push(null);
          });
        },
      });
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      void pumpMasked(held, rest, new StreamMasker(textMasker([KEY], []), new Set()), res).then((p) => pumped.push(p.bytes));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  /** Sends `request` on `sock` and resolves with the response's bytes once `complete` says so. */
  function exchange(sock: tls.TLSSocket, request: string, complete: (b: Buffer) => number): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      let got = Buffer.alloc(0);
      const onData = (d: Buffer): void => {
        got = Buffer.concat([got, d]);
        const end = complete(got);
        if (end > 0) {
          sock.off('data', onData);
          sock.off('end', onEnd);
          resolve(got.subarray(0, end));
        }
      };
      const onEnd = (): void => {
        sock.off('data', onData);
        if (complete(got) < 0) resolve(got);
        else reject(new Error(`closed after ${got.length} bytes`));
      };
      sock.on('data', onData);
      sock.on('end', onEnd);
      sock.write(request);
    });
  }
  const open = (): Promise<tls.TLSSocket> =>
    new Promise((resolve, reject) => {
      const s = tls.connect({ port, host: '127.0.0.1', servername: 'api.example.test', ca }, () => resolve(s));
      s.once('error', reject);
    });
  const headEnd = (b: Buffer): number => b.indexOf('\r\n\r\n');

  test('HTTP/1.1: the body is exactly the masked bytes in valid chunks, gathered into whole records, and the connection serves the next request', async () => {
    const sock = await open();
    const untilLastChunk = (b: Buffer): number => {
      const h = headEnd(b);
      if (h < 0) return 0;
      const i = b.indexOf('\r\n0\r\n\r\n', h + 4);
      return i < 0 ? 0 : i + 7;
    };
    for (const round of [1, 2]) {
      const raw = await exchange(sock, 'GET /big HTTP/1.1\r\nhost: api.example.test\r\n\r\n', untilLastChunk);
      const h = headEnd(raw);
      const head = raw.subarray(0, h).toString('latin1');
      assert.match(head, /^HTTP\/1\.1 200 /, `round ${round}`);
      assert.match(head, /transfer-encoding: chunked/i);
      assert.match(head, /connection: keep-alive/i);
      const { body, sizes } = dechunk(raw.subarray(h + 4));
      assert.deepEqual(body, Buffer.concat([...held, expected]), `round ${round}: the masked body, byte for byte`);
      assert.ok(
        sizes.some((s) => s > RECORD),
        `round ${round}: several upstream chunks went out as one (sizes ${sizes.join(',')})`,
      );
      // Between node's first chunk (with the head) and what is left at the end: whole records, or a remainder under one.
      for (const s of sizes.slice(1, -1)) assert.ok(framed(s) % RECORD === 0 || s < RECORD, `round ${round}: chunk of ${s} in ${sizes.join(',')}`);
    }
    sock.end();
    assert.deepEqual(pumped.slice(-2), [held[0]!.length + expected.length, held[0]!.length + expected.length], 'the pump counts the body bytes sent');
  });

  test('HTTP/1.0: no chunked framing to add (the body runs to the close), the same bytes', async () => {
    const sock = await open();
    const raw = await exchange(sock, 'GET /big HTTP/1.0\r\nhost: api.example.test\r\n\r\n', () => -1);
    const h = headEnd(raw);
    const head = raw.subarray(0, h).toString('latin1');
    assert.match(head, /^HTTP\/1\.1 200 /);
    assert.doesNotMatch(head, /transfer-encoding/i);
    assert.deepEqual(raw.subarray(h + 4), Buffer.concat([...held, expected]));
  });
});

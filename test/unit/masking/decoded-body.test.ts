import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { PassThrough, type Readable } from 'node:stream';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { randomBytes } from 'node:crypto';
import { decodedBody } from '../../../appliance/masking/decoded-body.js';

async function readAll(r: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of r) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

/** `bytes` cut into pieces of 1 to 5,000 bytes. */
function pieces(bytes: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0, n = 1; at < bytes.length; at += n, n = (n * 7919) % 5000 || 1) out.push(bytes.subarray(at, at + n));
  return out;
}

test('held prefix then the rest, through every layer in decoding order: the plain bytes', async () => {
  const plain = Buffer.from(randomBytes(200_000).toString('hex'));
  // Content-Encoding: gzip, br (gzip applied first): decoded br, then gzip.
  for (const [coded, codings] of [
    [brotliCompressSync(gzipSync(plain)), ['br', 'gzip']],
    [gzipSync(plain), ['gzip']],
    [deflateSync(plain), ['deflate']],
  ] as const) {
    const all = pieces(coded);
    const rest = new PassThrough();
    const out = readAll(decodedBody(all.slice(0, 3), rest, codings));
    for (const p of all.slice(3)) rest.write(p);
    rest.end();
    assert.deepEqual(await out, plain, codings.join(', '));
  }
});

test('the reader destroying the decoded stream (the client went away) destroys the upstream', async () => {
  const rest = new PassThrough();
  const body = decodedBody([], rest, ['br', 'gzip']);
  rest.write(brotliCompressSync(gzipSync(Buffer.alloc(100_000, 0x61))).subarray(0, 50));
  body.destroy();
  await once(rest, 'close');
  assert.ok(rest.destroyed, 'the upstream is destroyed, never reused');
});

test('the upstream breaking off, or gone already, errors the decoded stream', async () => {
  const rest = new PassThrough();
  const body = decodedBody([], rest, ['gzip']);
  const failed = once(body, 'error');
  rest.write(gzipSync(Buffer.alloc(100_000, 0x61)).subarray(0, 40));
  rest.destroy(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }));
  const [err] = (await failed) as [NodeJS.ErrnoException];
  assert.equal(err.code, 'ECONNRESET');

  // Closed without an error (and without its end): a premature close.
  const quiet = new PassThrough();
  const b2 = decodedBody([], quiet, ['gzip']);
  const f2 = once(b2, 'error');
  quiet.destroy();
  assert.equal(((await f2) as [NodeJS.ErrnoException])[0].code, 'ERR_STREAM_PREMATURE_CLOSE');

  const dead = new PassThrough();
  dead.destroy();
  const b3 = decodedBody([gzipSync(Buffer.from('x'))], dead, ['gzip']);
  assert.ok(b3.destroyed, 'gone before delivery: the decoded stream is destroyed at once');
  assert.equal((b3.errored as NodeJS.ErrnoException).code, 'ERR_STREAM_PREMATURE_CLOSE');
});

test('a corrupt layer errors the decoded stream and destroys the upstream; nothing undecoded comes out', async () => {
  const rest = new PassThrough();
  const body = decodedBody([], rest, ['gzip']);
  const got: Buffer[] = [];
  body.on('data', (c: Buffer) => got.push(c));
  const failed = once(body, 'error');
  rest.write(gzipSync(Buffer.from('plain text')).subarray(0, 10));
  rest.write(Buffer.from('not gzip at all, not gzip at all'));
  const [err] = (await failed) as [NodeJS.ErrnoException];
  assert.match(err.code ?? '', /^Z_/);
  assert.ok(rest.destroyed);
  assert.ok(!Buffer.concat(got).includes('not gzip'), 'the corrupt bytes never pass through');
});

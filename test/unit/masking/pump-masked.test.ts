import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough, Readable } from 'node:stream';
import { textMasker } from '../../../appliance/masking/mask-text.js';
import { StreamMasker } from '../../../appliance/masking/mask-stream.js';
import { pumpMasked } from '../../../appliance/masking/pump-masked.js';

const KEY = 'ddapi0123456789abcdef0123456789ab';

/** A writable that says "full" after each write until drained by the test: backpressure on demand. */
function slowSink(): { sink: PassThrough; got: Buffer[] } {
  const got: Buffer[] = [];
  const sink = new PassThrough({ highWaterMark: 1 });
  sink.on('data', (c: Buffer) => got.push(c));
  sink.pause();
  const drain = setInterval(() => {
    sink.read();
  }, 1);
  sink.on('finish', () => clearInterval(drain));
  sink.on('close', () => clearInterval(drain));
  return { sink, got };
}

test('the pump sends held bytes then the rest, masked, honours backpressure and counts the bytes sent', async () => {
  const m = textMasker([KEY], []);
  const text = `head ${KEY.slice(0, 7)}`;
  const rest = Readable.from([Buffer.from(`${KEY.slice(7)} middle `), Buffer.from(KEY.slice(0, 1)), Buffer.from(`${KEY.slice(1)} tail`)], {
    objectMode: false,
  });
  const { sink, got } = slowSink();
  const p = await pumpMasked([Buffer.from(text)], rest, new StreamMasker(m, new Set()), sink);
  sink.resume();
  assert.equal(p.error, undefined);
  const out = Buffer.concat(got).toString();
  assert.equal(out, 'head [masked:credential] middle [masked:credential] tail');
  assert.equal(p.bytes, Buffer.byteLength(out));
});

test('the pump ends early when the upstream breaks off or the client goes away, destroying the other side', async () => {
  const m = textMasker([KEY], []);
  const broken = new PassThrough();
  const { sink } = slowSink();
  const pumped = pumpMasked([], broken, new StreamMasker(m, new Set()), sink);
  broken.write(Buffer.from('some bytes '));
  broken.destroy(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }));
  const a = await pumped;
  assert.equal(a.error?.code, 'ECONNRESET');
  assert.ok(sink.destroyed, 'the client side is cut, not ended');

  const rest = new PassThrough();
  const gone = slowSink().sink;
  const pumped2 = pumpMasked([], rest, new StreamMasker(m, new Set()), gone);
  rest.write(Buffer.from('more bytes'));
  gone.destroy();
  const b = await pumped2;
  assert.equal(b.error?.code, 'ERR_STREAM_PREMATURE_CLOSE');
  assert.ok(rest.destroyed, 'the upstream side is destroyed, never reused');

  const dead = new PassThrough();
  dead.destroy();
  const c = await pumpMasked([Buffer.from('x')], dead, new StreamMasker(m, new Set()), slowSink().sink);
  assert.equal(c.error?.code, 'ERR_STREAM_PREMATURE_CLOSE', 'an upstream gone before delivery ends the body at once');
});

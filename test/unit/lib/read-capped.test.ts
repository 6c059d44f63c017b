import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { readCapped } from '../../../appliance/lib/read-capped.js';

test('a body under the cap is read whole', async () => {
  const s = new PassThrough();
  const r = readCapped(s, 10);
  s.write('abc');
  s.end('def');
  assert.deepEqual(await r, { ok: true, bytes: Buffer.from('abcdef') });
});

test('past the cap it stops, pauses the stream and hands back what it read', async () => {
  const s = new PassThrough();
  const r = readCapped(s, 4);
  s.write('abc');
  s.write('def');
  const out = await r;
  assert.equal(out.ok, false);
  assert.ok(!out.ok && out.why === 'too-large' && out.consumed.toString() === 'abcdef');
  assert.equal(s.isPaused(), true);
  assert.equal(s.listenerCount('data'), 0);
});

test('a stream closed before its end, an error and a deadline each settle the read', async () => {
  const closed = new PassThrough();
  const a = readCapped(closed, 100);
  closed.write('ab');
  closed.destroy();
  const ra = await a;
  assert.ok(!ra.ok && (ra.why === 'aborted' || ra.why === 'error'));

  const failing = new PassThrough();
  const b = readCapped(failing, 100);
  failing.destroy(Object.assign(new Error('reset'), { code: 'ECONNRESET' }));
  const rb = await b;
  assert.ok(!rb.ok && rb.why === 'error' && rb.detail === 'ECONNRESET');

  const slow = new PassThrough();
  const c = readCapped(slow, 100, { timeoutMs: 20 });
  slow.write('x');
  // The deadline's timer is unref'd (it must not keep a server alive): hold the loop open here.
  const hold = setInterval(() => undefined, 1_000);
  const rc = await c.finally(() => clearInterval(hold));
  assert.ok(!rc.ok && rc.why === 'timeout' && rc.consumed.toString() === 'x');
});

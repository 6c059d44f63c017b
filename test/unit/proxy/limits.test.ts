import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { Limits } from '../../../appliance/lib/limits.js';

const cfg = { maxConnections: 2, maxConnectionsPerSession: 1, maxInflightBytesPerConnection: 250, maxInflightBytesPerSession: 300 };

test('connections beyond maxConnections are refused until one closes', async () => {
  const l = new Limits(cfg, 100);
  const a = new PassThrough();
  const b = new PassThrough();
  assert.equal(l.openConnection(a), true);
  assert.equal(l.openConnection(b), true);
  assert.equal(l.openConnection(new PassThrough()), false);
  a.destroy();
  await new Promise((r) => setImmediate(r));
  assert.equal(l.openConnection(new PassThrough()), true);
});

test('a second connection of one session beyond maxConnectionsPerSession is refused with CONNECTION_LIMIT', async () => {
  const l = new Limits(cfg, 100);
  const a = new PassThrough();
  const b = new PassThrough();
  assert.equal(l.admit(a, 's1').ok, true);
  const r = l.admit(b, 's1');
  assert.equal(r.ok, false);
  assert.equal(!r.ok && r.error.code, 'CONNECTION_LIMIT');
  assert.equal(l.admit(b, 's2').ok, true, 'another session may use it');
  a.destroy();
  await new Promise((r2) => setImmediate(r2));
  assert.equal(l.admit(b, 's1').ok, true, 'the slot is free once the first connection closed');
});

test('reservations stop at the connection and session caps with INFLIGHT_LIMIT, and come back on release', () => {
  const l = new Limits({ ...cfg, maxConnectionsPerSession: 10 }, 100);
  const a = new PassThrough();
  const b = new PassThrough();
  const r1 = l.admit(a, 's');
  const r2 = l.admit(a, 's');
  assert.ok(r1.ok && r2.ok);
  const r3 = l.admit(a, 's');
  assert.equal(!r3.ok && r3.error.code, 'INFLIGHT_LIMIT', 'the connection holds 200 of 250');
  const r4 = l.admit(b, 's');
  assert.ok(r4.ok, 'the session holds 300 of 300');
  const r5 = l.admit(b, 's');
  assert.equal(!r5.ok && r5.error.code, 'INFLIGHT_LIMIT');
  r1.release();
  r1.release();
  assert.ok(l.admit(b, 's').ok, 'one release frees exactly one reservation');
  assert.equal(l.admit(b, 's').ok, false);
});

test('a kept-alive connection carrying 1,000 exchanges holds one close listener for them, not one per exchange', () => {
  const l = new Limits({ ...cfg, maxInflightBytesPerConnection: 1e9, maxInflightBytesPerSession: 1e9 }, 100);
  const a = new PassThrough();
  const before = a.listenerCount('close');
  for (let i = 0; i < 1000; i++) {
    const r = l.admit(a, 's');
    assert.ok(r.ok);
    r.release();
  }
  // Each closure a listener kept alive was memory held per request for the connection's lifetime,
  // and removing them one by one at close cost quadratic time.
  assert.ok(a.listenerCount('close') - before <= 1, `${a.listenerCount('close') - before} close listeners after 1,000 exchanges`);
});

test('closing a connection releases the reservations of exchanges whose responses never closed (queued pipelined ones)', async () => {
  const l = new Limits({ ...cfg, maxConnectionsPerSession: 10 }, 100);
  const a = new PassThrough();
  const b = new PassThrough();
  assert.ok(l.admit(a, 's').ok);
  assert.ok(l.admit(a, 's').ok);
  assert.equal(l.admit(b, 's').ok, true, 'the session holds 300 of 300');
  assert.equal(l.admit(b, 's').ok, false);
  a.destroy();
  await new Promise((r) => setImmediate(r));
  assert.ok(l.admit(b, 's').ok, 'the closed connection gave its 200 bytes back');
  assert.ok(!l.admit(b, 's').ok, 'b itself holds 200 of 250 now');
});

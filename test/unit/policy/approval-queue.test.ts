import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApprovalQueue } from '../../../appliance/approvals/approval-queue.js';

const held = { session: 's', sub: 'repo:x', grant: 'g', method: 'DELETE', url: 'https://api.datadoghq.com/api/v1/dashboard/a', bodyPreview: '', rule: {} };

test('a hold is listed until approved; the outcome carries who approved, when and the note', async () => {
  const events: string[] = [];
  const q = new ApprovalQueue(
    60_000,
    () => Date.parse('2026-01-01T00:00:10Z'),
    (e) => events.push(e),
  );
  const h = q.hold(held);
  assert.deepEqual(
    q.list().map((p) => [p.id, p.method]),
    [[h.id, 'DELETE']],
  );
  assert.equal(q.approve(h.id, 'alice', 'looks fine').ok, true);
  assert.deepEqual(await h.outcome, { kind: 'approved', approval: { by: 'alice', at: '2026-01-01T00:00:10.000Z', note: 'looks fine', channel: 'socket' } });
  assert.equal(q.size, 0);
  assert.equal(q.deny(h.id, 'bob').ok, false, 'a decided hold cannot be decided again');
  assert.deepEqual(events, ['held', 'approved']);
});

test('a hold with no decision times out; abort ends every pending hold', async () => {
  const q = new ApprovalQueue(30);
  // The queue's timers are unref'd (they must not keep a stopping server alive); this one keeps the test's loop up.
  const keep = setTimeout(() => undefined, 5_000);
  assert.equal((await q.hold(held).outcome).kind, 'timeout');
  clearTimeout(keep);
  const a = q.hold(held);
  const b = q.hold(held);
  q.abortAll('stopping');
  assert.deepEqual([(await a.outcome).kind, (await b.outcome).kind], ['aborted', 'aborted']);
});

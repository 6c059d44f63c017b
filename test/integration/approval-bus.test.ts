// The approval bus against a real redis-server on loopback: holds from two runners, first writer
// wins, a SIGKILLed and restarted Redis loses no hold, a lost bus fails closed at the deadline,
// and a decision after the deadline is refused.
import { after, before, test } from 'node:test';
import { skipOutsideCi } from '../fixtures/skip-outside-ci.js';
import assert from 'node:assert/strict';
import { createLogger } from '../../appliance/log.js';
import { RedisBus } from '../../appliance/approvals/redis-bus.js';
import { BusApprovals } from '../../appliance/approvals/bus-approvals.js';
import type { HeldRequest } from '../../appliance/approvals/approval-queue.js';
import { REDIS_MISSING, startRedis, type RedisServer } from '../fixtures/redis-server.js';

const log = createLogger({ level: 'silent' });
const held: HeldRequest = {
  session: 's1',
  sub: 'repo:acme/app:ref:refs/heads/main',
  grant: 'dashboards',
  method: 'DELETE',
  url: 'https://api.datadoghq.com/api/v1/dashboard/abc',
  bodyPreview: '',
  rule: { policy: 'p', rule: 0, action: 'approve', reason: 'deleting a dashboard needs a person' },
  claims: { repository: 'acme/app' },
  host: 'api.datadoghq.com',
};

let redis: RedisServer;
const open: { close(): Promise<void> }[] = [];
let prefix = 0;

function runner(timeoutMs: number, p: string): BusApprovals {
  const b = new BusApprovals(new RedisBus({ url: redis.url, keyPrefix: p }), timeoutMs, log);
  open.push(b);
  return b;
}
function approver(p: string): RedisBus {
  const b = new RedisBus({ url: redis.url, keyPrefix: p });
  open.push(b);
  return b;
}
async function until<T>(what: string, fn: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}
const at = (): string => new Date().toISOString();

before(async () => {
  if (REDIS_MISSING) return;
  redis = await startRedis();
});
after(async () => {
  for (const o of open) await o.close();
  await redis?.cleanup();
});

test('a hold on one runner is listed with its context; of two racing decisions the first wins and reaches the runner', async (t) => {
  if (skipOutsideCi(t, REDIS_MISSING)) return;
  const p = `t${prefix++}:`;
  const a = runner(60_000, p);
  runner(60_000, p); // a second runner on the same bus sees nothing of its own
  const bus = approver(p);
  const h = a.hold(held);
  const listed = await until('the hold on the bus', async () => (await bus.pending(Date.now())).find((x) => x.id === h.id));
  assert.equal(listed.method, 'DELETE');
  assert.equal(listed.grant, 'dashboards');
  assert.deepEqual(listed.claims, { repository: 'acme/app' });
  assert.equal((listed.rule as { reason: string }).reason, 'deleting a dashboard needs a person');
  assert.ok(listed.deadline > Date.now());
  const [x, y] = await Promise.all([
    bus.decide(h.id, { kind: 'approved', by: 'alice@example.com', at: at(), channel: 'console', note: 'ok' }),
    bus.decide(h.id, { kind: 'denied', by: 'bob@example.com', at: at(), channel: 'slack', note: 'no' }),
  ]);
  assert.equal([x, y].filter((r) => r.ok).length, 1, 'exactly one decision is written');
  const loser = x.ok ? y : x;
  assert.equal(loser.ok ? '' : loser.why, 'decided');
  const winner = x.ok ? x.decision : y.ok ? y.decision : undefined;
  const o = await h.outcome;
  assert.equal(o.kind, winner?.kind);
  if (o.kind === 'approved' || o.kind === 'denied') {
    assert.equal(o.approval.by, winner?.by);
    assert.equal(o.approval.channel, winner?.channel);
  }
  assert.deepEqual(await bus.pending(Date.now()), [], 'a decided hold leaves the list');
  const recent = await bus.recent();
  assert.equal(recent[0]?.hold.id, h.id);
  assert.equal(recent[0]?.decision.by, winner?.by);
});

test('Redis killed (SIGKILL) and restarted mid-hold loses nothing: the hold is still listed and an approval still reaches the runner', async (t) => {
  if (skipOutsideCi(t, REDIS_MISSING)) return;
  const p = `t${prefix++}:`;
  const a = runner(120_000, p);
  const bus = approver(p);
  const h = a.hold(held);
  await until('the hold on the bus', async () => (await bus.pending(Date.now())).find((x) => x.id === h.id));
  await redis.kill();
  await assert.rejects(bus.pending(Date.now()), 'the bus is really down');
  await redis.start();
  const again = await until('the hold after the restart', async () => (await bus.pending(Date.now())).find((x) => x.id === h.id));
  assert.equal(again.url, held.url);
  const r = await until('a decision once reconnected', async () => {
    const d = await bus.decide(h.id, { kind: 'approved', by: 'carol@example.com', at: at(), channel: 'cli' });
    return d.ok ? d : undefined;
  });
  assert.equal(r.decision.by, 'carol@example.com');
  const o = await h.outcome;
  assert.equal(o.kind, 'approved');
});

test('a runner that loses the bus keeps holding, then refuses at its timeout; a decision arriving after the deadline is refused as expired', async (t) => {
  if (skipOutsideCi(t, REDIS_MISSING)) return;
  const p = `t${prefix++}:`;
  const a = runner(2_000, p);
  const bus = approver(p);
  const h = a.hold(held);
  await until('the hold on the bus', async () => (await bus.pending(Date.now())).find((x) => x.id === h.id));
  await redis.kill();
  const keep = setTimeout(() => undefined, 30_000);
  const o = await h.outcome;
  clearTimeout(keep);
  assert.equal(o.kind, 'timeout', 'no bus at the deadline: fail closed');
  await redis.start();
  const late = await until('an answer from the restarted bus', () =>
    bus.decide(h.id, { kind: 'approved', by: 'alice@example.com', at: at(), channel: 'console' }),
  );
  assert.equal(late.ok, false);
  assert.equal(late.ok ? '' : late.why, 'expired');
  assert.deepEqual(await bus.pending(Date.now()), [], 'an expired hold is not listed');
});

test('a hold that times out with the bus up is written as timed out; an approval through the runner afterwards is refused as expired', async (t) => {
  if (skipOutsideCi(t, REDIS_MISSING)) return;
  const p = `t${prefix++}:`;
  const a = runner(1_000, p);
  const h = a.hold(held);
  const keep = setTimeout(() => undefined, 30_000);
  assert.equal((await h.outcome).kind, 'timeout');
  clearTimeout(keep);
  const r = await a.approve(h.id, 'alice@example.com', undefined, 'cli');
  assert.equal(r.ok, false);
  assert.equal(r.ok ? '' : r.why, 'expired');
});

test("a Redis that lost its data (FLUSHALL, then every client dropped) gets the runner's waiting holds again on reconnect", async (t) => {
  if (skipOutsideCi(t, REDIS_MISSING)) return;
  const p = `t${prefix++}:`;
  const a = runner(120_000, p);
  const bus = approver(p);
  const h = a.hold(held);
  await until('the hold on the bus', async () => (await bus.pending(Date.now())).find((x) => x.id === h.id));
  await bus.redis.flushall();
  assert.deepEqual(await bus.pending(Date.now()), [], 'the data is gone');
  await bus.redis.call('CLIENT', 'KILL', 'TYPE', 'normal').catch(() => undefined);
  const again = await until('the hold published again', async () => (await bus.pending(Date.now())).find((x) => x.id === h.id));
  assert.equal(again.url, held.url);
  const r = await until('a decision', async () => {
    const d = await bus.decide(h.id, { kind: 'denied', by: 'alice@example.com', at: at(), channel: 'console', note: 'no' });
    return d.ok ? d : undefined;
  });
  assert.equal(r.decision.kind, 'denied');
  assert.equal((await h.outcome).kind, 'denied');
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VerdictCache, VERDICT_MAX_AGE_MS } from '../../../appliance/identity/verdict-cache.js';

const T = 1_000_000;
const gen0 = (): number => 0;
const put = (c: VerdictCache<string>, k: string, o: Partial<{ now: number; expiresAt: number; keys: number }> = {}): void =>
  c.set(k, `v-${k}`, { now: o.now ?? T, expiresAt: o.expiresAt ?? T + 60_000, issuer: 'gh', keys: o.keys ?? 0 });

test('a verdict is served until the token expires, and not from then on', () => {
  const c = new VerdictCache<string>();
  put(c, 'a', { expiresAt: T + 60_000 });
  assert.equal(c.get('a', T + 59_999, gen0), 'v-a');
  assert.equal(c.get('a', T + 60_000, gen0), undefined);
  assert.equal(c.size, 0, 'an expired verdict is dropped when found');
});

test('a token that expires later than the cap is verified again after VERDICT_MAX_AGE_MS', () => {
  const c = new VerdictCache<string>();
  put(c, 'a', { expiresAt: T + 24 * 3_600_000 });
  assert.equal(c.get('a', T + VERDICT_MAX_AGE_MS - 1, gen0), 'v-a');
  assert.equal(c.get('a', T + VERDICT_MAX_AGE_MS, gen0), undefined);
});

test('a token already expired is not remembered', () => {
  const c = new VerdictCache<string>();
  put(c, 'a', { expiresAt: T });
  assert.equal(c.size, 0);
});

test('a change of the issuer keys invalidates the verdicts taken with the old ones', () => {
  const c = new VerdictCache<string>();
  put(c, 'a', { keys: 1 });
  assert.equal(
    c.get('a', T, () => 1),
    'v-a',
  );
  assert.equal(
    c.get('a', T, () => 2),
    undefined,
  );
  assert.equal(
    c.get('a', T, () => 1),
    undefined,
    'gone for good, not only hidden',
  );
});

test('the cache is bounded, and the least recently used verdict goes first', () => {
  const c = new VerdictCache<string>(3);
  put(c, 'a');
  put(c, 'b');
  put(c, 'c');
  assert.equal(c.get('a', T, gen0), 'v-a', 'a is now the most recently used');
  put(c, 'd');
  assert.equal(c.size, 3);
  assert.equal(c.get('b', T, gen0), undefined, 'b was the least recently used');
  for (const k of ['a', 'c', 'd']) assert.equal(c.get(k, T, gen0), `v-${k}`);
  // Setting a key again replaces it without evicting another.
  put(c, 'd');
  assert.equal(c.size, 3);
  for (const k of ['a', 'c', 'd']) assert.equal(c.get(k, T, gen0), `v-${k}`);
});

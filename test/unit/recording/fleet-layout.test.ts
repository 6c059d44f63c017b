// The sink's fleet layout and the search's pure parts: which day prefixes a time range lists,
// which ids can be skipped before fetching, and what a kid may be.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dayPrefix, indexKey, indexPrefixes, isKid, keyKey } from '../../../appliance/fleet/layout.js';
import { idTime, mayMatchById } from '../../../appliance/fleet/search.js';
import { parseIndexRecord } from '../../../appliance/fleet/index-record.js';

const S = { prefix: 'fleet/' };
const at = (iso: string): number => Date.parse(iso);

test('a session index record is filed under the UTC day it opened', () => {
  assert.equal(indexKey(S, '20261207T233000Z-0123abcd', '2026-12-07T23:30:00.000Z'), 'fleet/index/2026/12/07/20261207T233000Z-0123abcd.json');
  assert.equal(dayPrefix(S, at('2026-01-01T00:00:00Z')), 'fleet/index/2026/01/01/');
  assert.throws(() => indexKey(S, '../../x', '2026-12-07T00:00:00Z'));
});

test('a one-day range lists exactly that day; a range lists its days newest first; no start lists the whole index', () => {
  const now = at('2026-12-07T12:00:00Z');
  assert.deepEqual(indexPrefixes(S, at('2026-11-20T00:00:00Z'), at('2026-11-20T23:59:59.999Z'), now), ['fleet/index/2026/11/20/']);
  assert.deepEqual(indexPrefixes(S, at('2026-12-05T10:00:00Z'), undefined, now), [
    'fleet/index/2026/12/07/',
    'fleet/index/2026/12/06/',
    'fleet/index/2026/12/05/',
  ]);
  assert.deepEqual(indexPrefixes(S, undefined, undefined, now), ['fleet/index/']);
  assert.deepEqual(
    indexPrefixes(S, at('2026-12-08T00:00:00Z'), at('2026-12-01T00:00:00Z'), now),
    ['fleet/index/'],
    'an empty range falls back to the whole index, never to nothing silently',
  );
});

test("ids outside the range are skipped before fetching, with the id's one-second precision in mind", () => {
  assert.equal(idTime('20261207T101500Z-0123abcd'), at('2026-12-07T10:15:00Z'));
  assert.ok(Number.isNaN(idTime('nonsense')));
  assert.equal(mayMatchById('20261207T101500Z-0123abcd', { since: at('2026-12-07T10:15:00.500Z') }), true);
  assert.equal(mayMatchById('20261207T101500Z-0123abcd', { since: at('2026-12-07T10:15:01Z') }), false);
  assert.equal(mayMatchById('20261207T101500Z-0123abcd', { until: at('2026-12-07T10:14:59Z') }), false);
  assert.equal(mayMatchById('not-an-id', {}), false);
});

test('only thumbprint-shaped kids become key names', () => {
  assert.equal(keyKey(S, 'AbC_d-0123456789xyz'), 'fleet/keys/AbC_d-0123456789xyz.jwk');
  for (const bad of ['../x', 'short', 'a/b/c/d/e/f/g/h/i', 'a'.repeat(200)]) {
    assert.equal(isKid(bad), false, bad);
    assert.throws(() => keyKey(S, bad));
  }
});

test('an index record read back must have an id, an opening time, claims and a count', () => {
  assert.equal(parseIndexRecord('not json'), null);
  assert.equal(parseIndexRecord('{"id":"x"}'), null);
  assert.equal(parseIndexRecord('{"id":"x","openedAt":"t","claims":{},"entryCount":1}')?.id, 'x');
});

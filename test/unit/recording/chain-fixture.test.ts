// The hash chain's bytes must never change: sessions recorded by earlier versions have to verify
// forever. test/fixtures/chain/ holds a journal and its HAR written by the recording code of
// 2026-12-07 (before #16); both must verify, and rebuilding the HAR from the journal today must
// give the very same hashes. canonicalJson stays hand-written, and this says why (see the last test).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import canonicalize from 'canonicalize';
import { canonicalJson, entryHash, verifyChain } from '../../../appliance/recording/integrity/index.js';
import { finalizeJournal } from '../../../appliance/recording/session/index.js';

const FIXTURES = resolve(import.meta.dirname, '../../../../test/fixtures/chain');
const ID = '20261207T120001Z-be717387';
const ORIGIN = '4ff3ea66f74c241d6dd5bdfb0eaa4a49d2a5d7da7698011e7a2bf63fb6033bd4';
const HASHES = [
  '2ef02bf336b978b2cd545e4b2b97c62fabf0af33bdee6152e05a794cf7f0b2b2',
  'f6af39cb3ac266b9a2d92fcc520a608faf6bef12da54e667b8be0580dcf24341',
  '562409ddda7d2793744ff720109e91f0ecf817fc3e4a26196b47bc158a3aed5c',
];

interface Har {
  log: {
    _airlock: { chain: { origin: string; head: string; count: number; journal?: { intact: boolean } } };
    entries: Array<Record<string, unknown> & { _airlock: { chain: { seq: number; prev: string; hash: string } } }>;
  };
}

function chainOf(har: Har): string[] {
  return har.log.entries.map((e) => e._airlock.chain.hash);
}

test('a HAR written before #16 verifies, and its entry hashes are recomputed exactly', async () => {
  const bytes = await readFile(join(FIXTURES, 'session.har'));
  assert.deepEqual(verifyChain(bytes), { ok: true, entries: 3, count: 3 });
  const har = JSON.parse(bytes.toString('utf8')) as Har;
  assert.equal(har.log._airlock.chain.origin, ORIGIN);
  assert.equal(har.log._airlock.chain.head, HASHES[2]);
  let prev = ORIGIN;
  har.log.entries.forEach((e, seq) => {
    assert.equal(entryHash(seq, prev, e), HASHES[seq], `entry ${seq + 1}`);
    prev = HASHES[seq]!;
  });
});

test('the journal written before #16 still has an intact line chain and finalizes to the same hashes', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'airlock-chainfx-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await copyFile(join(FIXTURES, 'session.jsonl'), join(dir, `${ID}.jsonl`));
  const r = await finalizeJournal(dir, ID, 'explicit', { now: () => Date.parse('2026-12-07T12:00:09.000Z') });
  assert.equal(r.entryCount, 3);
  const rebuilt = JSON.parse(await readFile(r.harPath, 'utf8')) as Har;
  assert.deepEqual(chainOf(rebuilt), HASHES);
  assert.equal(rebuilt.log._airlock.chain.head, HASHES[2]);
  assert.equal(rebuilt.log._airlock.chain.journal?.intact, true);
});

test('an altered fixture entry fails, so the tests above can fail', async () => {
  const text = (await readFile(join(FIXTURES, 'session.har'), 'utf8')).replace('ci.build', 'ci.bu1ld');
  const v = verifyChain(text);
  assert.equal(v.ok, false);
  assert.equal(v.problem?.code, 'ENTRY_ALTERED');
});

test('canonicalize (RFC 8785) gives the same bytes on recorded entries, but throws on a lone surrogate that canonicalJson hashes', async () => {
  const har = JSON.parse(await readFile(join(FIXTURES, 'session.har'), 'utf8')) as Har;
  for (const e of har.log.entries) assert.equal(canonicalize(e), canonicalJson(e));
  // An approval note is cut at 500 UTF-16 units (control/approval-routes.ts), which can split an
  // emoji, and `"\udc80"` is legal JSON anyway; the note is recorded in _airlock.approval. Recording
  // and `sessions verify` must still hash that entry, where RFC 8785 requires a refusal.
  const note = `${'x'.repeat(499)}\u{1F680}`.slice(0, 500);
  const entry = { _airlock: { approval: { by: 'alice', note } } };
  assert.throws(() => canonicalize(entry), /surrogate/i);
  assert.ok(canonicalJson(entry).endsWith('\\ud83d"}}}'));
});

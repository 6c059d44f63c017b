import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../../appliance/log.js';
import { VaultReader } from '../../../appliance/credentials/vault-reader.js';
import { VaultStore } from '../../../appliance/credentials/vault-store.js';
import { isVaultError } from '../../../appliance/credentials/vault-error.js';
import { ManualTimers } from '../../fixtures/manual-timers.js';

const API = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
const APP = 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb';
const API2 = 'cccccccccccccccccccccccccccccccc';

// Lines land in `lines` as the logger writes them (synchronously), so a test can look right after a poll.
function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  return { log: createLogger({ level: 'debug', destination: stream }), lines };
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'airlock-reader-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** One poll round on the hand-moved clock: fire the pending poll, then await the next one, which the reader sets once the round is done. */
async function poll(timers: ManualTimers): Promise<void> {
  assert.equal(timers.fire(), 1, 'one poll was pending');
  await timers.scheduled();
}

test('a missing vault.json is an empty vault', async () => {
  await withDir(async (dir) => {
    const reader = new VaultReader(join(dir, 'state'), { log: capture().log });
    await reader.start();
    try {
      assert.equal(reader.get('ci'), undefined);
      assert.deepEqual(reader.allSecretValues(), []);
    } finally {
      reader.stop();
    }
  });
});

test('start loads the vault and allSecretValues lists every key', async () => {
  await withDir(async (dir) => {
    const store = new VaultStore(dir);
    await store.put('a', { apiKey: API, appKey: APP });
    await store.put('b', { apiKey: API2 });
    const reader = new VaultReader(dir, { log: capture().log });
    await reader.start();
    try {
      assert.equal(reader.get('a')?.appKey, APP);
      assert.equal(reader.get('b')?.apiKey, API2);
      assert.deepEqual([...reader.allSecretValues()].sort(), [API, APP, API2].sort());
    } finally {
      reader.stop();
    }
  });
});

test('a put while running is picked up by the next poll, one second apart by default (live within 2 s)', async () => {
  await withDir(async (dir) => {
    const store = new VaultStore(dir);
    await store.put('a', { apiKey: API });
    const timers = new ManualTimers();
    const reader = new VaultReader(dir, { log: capture().log, timers });
    await reader.start();
    try {
      assert.deepEqual(timers.pending, [1000], 'the default poll interval');
      const before = reader.get('a');
      await store.put('a', { apiKey: API2 });
      await store.put('new', { apiKey: API });
      await poll(timers);
      assert.equal(reader.get('new')?.apiKey, API);
      assert.equal(reader.get('a')?.apiKey, API2);
      // An entry an in-flight request already holds is not mutated by the reload.
      assert.equal(before?.apiKey, API);
    } finally {
      reader.stop();
    }
  });
});

test('garbage in vault.json keeps the last good contents and warns without key material', async () => {
  await withDir(async (dir) => {
    const store = new VaultStore(dir);
    await store.put('a', { apiKey: API });
    const { log, lines } = capture();
    const timers = new ManualTimers();
    const reader = new VaultReader(dir, { log, timers });
    await reader.start();
    try {
      await writeFile(join(dir, 'vault.json'), `{"version":1,"entries":[{"name":"a","apiKey":"${API2}"`);
      await poll(timers);
      assert.equal(reader.get('a')?.apiKey, API);
      const warnings = lines.filter((l) => l.includes('VAULT_CORRUPT'));
      assert.equal(warnings.length, 1, 'the bad version is reported');
      assert.equal((JSON.parse(warnings[0]!) as { level: unknown }).level, 40);
      await poll(timers);
      await poll(timers);
      assert.equal(lines.filter((l) => l.includes('VAULT_CORRUPT')).length, 1, 'one bad version is reported once');
      for (const l of lines) assert.ok(!l.includes(API) && !l.includes(API2), 'no key in the log');

      await store.remove('a').catch(() => undefined); // the store refuses a corrupt file
      await writeFile(join(dir, 'vault.json'), JSON.stringify({ version: 1, entries: [] }));
      await poll(timers);
      assert.equal(reader.get('a'), undefined);
    } finally {
      reader.stop();
    }
  });
});

test('removing vault.json while running empties the vault', async () => {
  await withDir(async (dir) => {
    await new VaultStore(dir).put('a', { apiKey: API });
    const timers = new ManualTimers();
    const reader = new VaultReader(dir, { log: capture().log, timers });
    await reader.start();
    try {
      await unlink(join(dir, 'vault.json'));
      await poll(timers);
      assert.equal(reader.get('a'), undefined);
      assert.deepEqual(reader.allSecretValues(), []);
    } finally {
      reader.stop();
    }
  });
});

test('start fails with VAULT_CORRUPT on a garbage vault.json', async () => {
  await withDir(async (dir) => {
    await writeFile(join(dir, 'vault.json'), `not json ${API}`);
    const reader = new VaultReader(dir, { log: capture().log, pollMs: 50 });
    await assert.rejects(reader.start(), (err: unknown) => {
      assert.ok(isVaultError(err) && err.code === 'VAULT_CORRUPT');
      assert.ok(!err.message.includes(API));
      return true;
    });
    reader.stop();
  });
});

test('stop leaves no poll pending, so no further reload can happen', async () => {
  await withDir(async (dir) => {
    const store = new VaultStore(dir);
    await store.put('a', { apiKey: API });
    const timers = new ManualTimers();
    const reader = new VaultReader(dir, { log: capture().log, timers });
    await reader.start();
    await poll(timers);
    reader.stop();
    assert.deepEqual(timers.pending, [], 'stop cleared the pending poll');
    await store.put('b', { apiKey: API2 });
    assert.equal(timers.fire(), 0, 'nothing left to fire');
    assert.equal(reader.get('b'), undefined);
  });
});

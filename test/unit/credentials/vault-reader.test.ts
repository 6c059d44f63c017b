import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger } from '../../../appliance/log.js';
import { VaultReader } from '../../../appliance/credentials/vault-reader.js';
import { VaultStore } from '../../../appliance/credentials/vault-store.js';
import { isVaultError } from '../../../appliance/credentials/vault-error.js';

const API = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
const APP = 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb';
const API2 = 'cccccccccccccccccccccccccccccccc';

function capture() {
  const stream = new PassThrough();
  const lines: string[] = [];
  stream.on('data', (chunk: Buffer) => lines.push(...chunk.toString('utf8').split('\n').filter(Boolean)));
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

async function waitFor(cond: () => boolean, ms: number): Promise<number> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > ms) throw new Error(`condition not met within ${ms} ms`);
    await sleep(20);
  }
  return Date.now() - start;
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

test('a put while running is picked up within 2 s at the default poll interval', async () => {
  await withDir(async (dir) => {
    const store = new VaultStore(dir);
    await store.put('a', { apiKey: API });
    const reader = new VaultReader(dir, { log: capture().log });
    await reader.start();
    try {
      const before = reader.get('a');
      await store.put('a', { apiKey: API2 });
      await store.put('new', { apiKey: API });
      await waitFor(() => reader.get('new') !== undefined && reader.get('a')?.apiKey === API2, 2_000);
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
    const reader = new VaultReader(dir, { log, pollMs: 50 });
    await reader.start();
    try {
      await writeFile(join(dir, 'vault.json'), `{"version":1,"entries":[{"name":"a","apiKey":"${API2}"`);
      await waitFor(() => lines.some((l) => l.includes('VAULT_CORRUPT')), 2_000);
      assert.equal(reader.get('a')?.apiKey, API);
      const warnings = lines.filter((l) => l.includes('VAULT_CORRUPT'));
      assert.equal(JSON.parse(warnings[0]!).level, 40);
      await sleep(200);
      assert.equal(lines.filter((l) => l.includes('VAULT_CORRUPT')).length, 1, 'one bad version is reported once');
      for (const l of lines) assert.ok(!l.includes(API) && !l.includes(API2), 'no key in the log');

      await store.remove('a').catch(() => undefined); // the store refuses a corrupt file
      await writeFile(join(dir, 'vault.json'), JSON.stringify({ version: 1, entries: [] }));
      await waitFor(() => reader.get('a') === undefined, 2_000);
    } finally {
      reader.stop();
    }
  });
});

test('removing vault.json while running empties the vault', async () => {
  await withDir(async (dir) => {
    await new VaultStore(dir).put('a', { apiKey: API });
    const reader = new VaultReader(dir, { log: capture().log, pollMs: 50 });
    await reader.start();
    try {
      await unlink(join(dir, 'vault.json'));
      await waitFor(() => reader.get('a') === undefined, 2_000);
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

test('stop leaves no timer and no further reloads happen', async () => {
  await withDir(async (dir) => {
    const store = new VaultStore(dir);
    await store.put('a', { apiKey: API });
    const reader = new VaultReader(dir, { log: capture().log, pollMs: 20 });
    await reader.start();
    await sleep(60);
    reader.stop();
    // The timer is private; reading it is the direct check that stop() cleared it.
    assert.equal((reader as unknown as { timer: unknown }).timer, undefined);
    await store.put('b', { apiKey: API2 });
    await sleep(150);
    assert.equal(reader.get('b'), undefined);
    assert.equal((reader as unknown as { timer: unknown }).timer, undefined);
  });
});

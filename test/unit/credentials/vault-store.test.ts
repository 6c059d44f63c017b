import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VaultStore } from '../../../appliance/credentials/vault-store.js';
import { isVaultError } from '../../../appliance/credentials/vault-error.js';

const API = '0123456789abcdef0123456789abcdef';
const APP = 'fedcba9876543210fedcba9876543210fedcba98';

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'airlock-vault-'));
  try {
    await fn(join(root, 'state'));
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

function codeOf(code: string) {
  return (err: unknown) => isVaultError(err) && err.code === code;
}

test('put creates the state dir 0700 and vault.json 0600 whatever the umask', async () => {
  const old = process.umask(0o000);
  try {
    await withDir(async (dir) => {
      const r = await new VaultStore(dir).put('ci', { apiKey: API });
      assert.deepEqual(r, { created: true });
      assert.equal((await stat(join(dir, 'vault.json'))).mode & 0o777, 0o600);
      assert.equal((await stat(dir)).mode & 0o777, 0o700);
      assert.deepEqual((await readdir(dir)).sort(), ['vault.json'], 'no temp or lock file left behind');
    });
  } finally {
    process.umask(old);
  }
});

test('a second put of the same name updates the keys and keeps createdAt', async () => {
  await withDir(async (dir) => {
    let t = Date.parse('2025-01-01T00:00:00Z');
    const store = new VaultStore(dir, { now: () => new Date(t) });
    await store.put('ci', { apiKey: API, appKey: APP });
    t += 60_000;
    assert.deepEqual(await store.put('ci', { apiKey: `${API}2` }), { created: false });
    assert.deepEqual(await store.get('ci'), {
      name: 'ci',
      apiKey: `${API}2`,
      createdAt: '2025-01-01T00:00:00.000Z',
      updatedAt: '2025-01-01T00:01:00.000Z',
    });
    assert.equal((await stat(join(dir, 'vault.json'))).mode & 0o777, 0o600);
  });
});

test('list shows sha256[0:8] fingerprints and times, never a key', async () => {
  await withDir(async (dir) => {
    const store = new VaultStore(dir, { now: () => new Date('2025-02-03T04:05:06Z') });
    await store.put('zeta', { apiKey: API });
    await store.put('alpha', { apiKey: API, appKey: APP });
    const listing = await store.list();
    const fp = (k: string) => createHash('sha256').update(k).digest('hex').slice(0, 8);
    assert.deepEqual(listing, [
      {
        name: 'alpha',
        apiKeyFingerprint: fp(API),
        appKeyFingerprint: fp(APP),
        createdAt: '2025-02-03T04:05:06.000Z',
        updatedAt: '2025-02-03T04:05:06.000Z',
        source: 'stored',
        state: 'fresh',
        previous: [],
      },
      {
        name: 'zeta',
        apiKeyFingerprint: fp(API),
        appKeyFingerprint: null,
        createdAt: '2025-02-03T04:05:06.000Z',
        updatedAt: '2025-02-03T04:05:06.000Z',
        source: 'stored',
        state: 'fresh',
        previous: [],
      },
    ]);
    const text = JSON.stringify(listing);
    assert.ok(!text.includes(API) && !text.includes(APP));
  });
});

test('remove deletes an entry and reports whether it existed', async () => {
  await withDir(async (dir) => {
    const store = new VaultStore(dir);
    await store.put('a', { apiKey: API });
    await store.put('b', { apiKey: API });
    assert.equal(await store.remove('a'), true);
    assert.equal(await store.remove('a'), false);
    assert.equal(await store.get('a'), undefined);
    assert.deepEqual(
      (await store.list()).map((l) => l.name),
      ['b'],
    );
  });
});

test('a missing vault lists empty and get finds nothing, without creating files', async () => {
  await withDir(async (dir) => {
    const store = new VaultStore(dir);
    assert.deepEqual(await store.list(), []);
    assert.equal(await store.get('x'), undefined);
    await assert.rejects(stat(dir));
  });
});

test('concurrent puts from separate stores all survive', async () => {
  await withDir(async (dir) => {
    const names = Array.from({ length: 12 }, (_, i) => `job-${i}`);
    await Promise.all(names.map((n) => new VaultStore(dir).put(n, { apiKey: `${API}${n}` })));
    const listed = (await new VaultStore(dir).list()).map((l) => l.name);
    assert.deepEqual(listed, [...names].sort());
    for (const n of names) assert.equal((await new VaultStore(dir).get(n))?.apiKey, `${API}${n}`);
  });
});

test('bad names are rejected with VAULT_NAME_INVALID and nothing is written', async () => {
  await withDir(async (dir) => {
    const store = new VaultStore(dir);
    for (const name of ['', '-x', '.x', '_x', 'a b', 'a/b', '../x', 'é', 'a'.repeat(65), 'x\n']) {
      await assert.rejects(store.put(name, { apiKey: API }), codeOf('VAULT_NAME_INVALID'), JSON.stringify(name));
    }
    await assert.rejects(store.remove('a/b'), codeOf('VAULT_NAME_INVALID'));
    assert.deepEqual(await store.list(), []);
    await store.put('a'.repeat(64), { apiKey: API });
    await store.put('A0._-z', { apiKey: API });
    assert.equal((await store.list()).length, 2);
  });
});

test('empty and header-breaking keys are rejected without echoing them', async () => {
  await withDir(async (dir) => {
    const store = new VaultStore(dir);
    await assert.rejects(store.put('ci', { apiKey: ' \n' }), codeOf('VAULT_KEY_EMPTY'));
    await assert.rejects(store.put('ci', { apiKey: API, appKey: '' }), codeOf('VAULT_KEY_EMPTY'));
    await assert.rejects(store.put('ci', { apiKey: 'secretpart\r\nX-Evil: 1' }), (err: unknown) => {
      assert.ok(isVaultError(err) && err.code === 'VAULT_KEY_INVALID');
      assert.ok(!err.message.includes('secretpart'));
      return true;
    });
    assert.deepEqual(await store.list(), []);
  });
});

test('keys are trimmed before they are stored', async () => {
  await withDir(async (dir) => {
    const store = new VaultStore(dir);
    await store.put('ci', { apiKey: `  ${API}\n`, appKey: `${APP}\r\n` });
    const e = await store.get('ci');
    assert.equal(e?.apiKey, API);
    assert.equal(e?.appKey, APP);
  });
});

test('a corrupt vault.json gives VAULT_CORRUPT without quoting the file, and put does not overwrite it', async () => {
  await withDir(async (dir) => {
    const store = new VaultStore(dir);
    await store.put('ci', { apiKey: API });
    const file = join(dir, 'vault.json');
    await writeFile(file, `{"version":1,"entries":[{"name":"ci","apiKey":"${API}"`);
    await assert.rejects(store.list(), (err: unknown) => {
      assert.ok(isVaultError(err) && err.code === 'VAULT_CORRUPT');
      assert.ok(!err.message.includes(API));
      return true;
    });
    await assert.rejects(store.put('other', { apiKey: API }), codeOf('VAULT_CORRUPT'));
    assert.match(await readFile(file, 'utf8'), /^\{"version":1,"entries":\[\{"name":"ci"/);
  });
});

test('a vault.json of the wrong shape is VAULT_CORRUPT', async () => {
  await withDir(async (dir) => {
    const store = new VaultStore(dir);
    await store.put('ci', { apiKey: API });
    const file = join(dir, 'vault.json');
    const entry = { name: 'ci', apiKey: API, createdAt: 'x', updatedAt: 'x' };
    for (const bad of [
      { version: 2, entries: [] },
      { version: 1, entries: [entry, entry] },
      { version: 1, entries: [{ ...entry, apiKey: 'a b' }] },
    ]) {
      await writeFile(file, JSON.stringify(bad));
      await assert.rejects(store.get('ci'), codeOf('VAULT_CORRUPT'), JSON.stringify(bad));
    }
  });
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withVaultLock } from '../../../appliance/credentials/with-vault-lock.js';
import { isVaultError } from '../../../appliance/credentials/vault-error.js';

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'airlock-lock-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('the lock serialises holders and is removed afterwards', async () => {
  await withDir(async (dir) => {
    const lock = join(dir, 'vault.lock');
    let inside = 0;
    let maxInside = 0;
    await Promise.all(
      Array.from({ length: 6 }, () =>
        withVaultLock(lock, async () => {
          inside++;
          maxInside = Math.max(maxInside, inside);
          await new Promise((r) => setTimeout(r, 5));
          inside--;
        }),
      ),
    );
    assert.equal(maxInside, 1);
    await assert.rejects(stat(lock), { code: 'ENOENT' });
  });
});

test('a fresh lock held by someone else gives VAULT_LOCKED after the wait', async () => {
  await withDir(async (dir) => {
    const lock = join(dir, 'vault.lock');
    await mkdir(lock);
    let ran = false;
    await assert.rejects(
      withVaultLock(
        lock,
        async () => {
          ran = true;
        },
        { waitMs: 100 },
      ),
      (err: unknown) => isVaultError(err) && err.code === 'VAULT_LOCKED',
    );
    assert.equal(ran, false);
    await stat(lock);
  });
});

test('a lock older than 10 s is taken over', async () => {
  await withDir(async (dir) => {
    const lock = join(dir, 'vault.lock');
    await mkdir(lock);
    const old = new Date(Date.now() - 11_000);
    await utimes(lock, old, old);
    const out = await withVaultLock(lock, async () => 'ran', { waitMs: 2_000 });
    assert.equal(out, 'ran');
  });
});

test('the lock is released when the work throws', async () => {
  await withDir(async (dir) => {
    const lock = join(dir, 'vault.lock');
    await assert.rejects(
      withVaultLock(lock, async () => Promise.reject(new Error('boom'))),
      /boom/,
    );
    await assert.rejects(stat(lock), { code: 'ENOENT' });
  });
});

test('a plain lock file left by an older airlock gives VAULT_LOCKED, even when old', async () => {
  await withDir(async (dir) => {
    const lock = join(dir, 'vault.lock');
    await writeFile(lock, 'crashed');
    const old = new Date(Date.now() - 11_000);
    await utimes(lock, old, old);
    await assert.rejects(
      withVaultLock(lock, async () => 'ran', { waitMs: 100 }),
      (err: unknown) => isVaultError(err) && err.code === 'VAULT_LOCKED' && err.message.includes('remove it'),
    );
  });
});

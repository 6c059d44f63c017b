import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readKeysFromEnv, readKeysFromFiles } from '../../../appliance/credentials/read-keys.js';
import { isVaultError } from '../../../appliance/credentials/vault-error.js';

function codeOf(code: string) {
  return (err: unknown) => isVaultError(err) && err.code === code;
}

test('keys read from files are trimmed of surrounding whitespace and newlines', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'airlock-keys-'));
  try {
    await writeFile(join(dir, 'api'), '  abc123\n\n', { mode: 0o600 });
    await writeFile(join(dir, 'app'), '\tdef456\r\n', { mode: 0o600 });
    assert.deepEqual(await readKeysFromFiles(join(dir, 'api')), { apiKey: 'abc123' });
    assert.deepEqual(await readKeysFromFiles(join(dir, 'api'), join(dir, 'app')), { apiKey: 'abc123', appKey: 'def456' });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('an empty key file is VAULT_KEY_EMPTY and a missing one VAULT_KEY_FILE_UNREADABLE naming the file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'airlock-keys-'));
  try {
    await writeFile(join(dir, 'api'), 'abc123\n');
    await writeFile(join(dir, 'empty'), ' \n');
    await assert.rejects(readKeysFromFiles(join(dir, 'empty')), codeOf('VAULT_KEY_EMPTY'));
    await assert.rejects(readKeysFromFiles(join(dir, 'api'), join(dir, 'empty')), codeOf('VAULT_KEY_EMPTY'));
    await assert.rejects(readKeysFromFiles(join(dir, 'nope')), (err: unknown) => {
      assert.ok(isVaultError(err) && err.code === 'VAULT_KEY_FILE_UNREADABLE');
      assert.ok(err.message.includes(join(dir, 'nope')));
      return true;
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('keys from the env come from DD_API_KEY and DD_APP_KEY', () => {
  assert.deepEqual(readKeysFromEnv({ DD_API_KEY: ' abc\n', DD_APP_KEY: 'def' }), { apiKey: 'abc', appKey: 'def' });
  assert.deepEqual(readKeysFromEnv({ DD_API_KEY: 'abc' }), { apiKey: 'abc' });
  assert.deepEqual(readKeysFromEnv({ DD_API_KEY: 'abc', DD_APP_KEY: '' }), { apiKey: 'abc' });
});

test('a missing DD_API_KEY is VAULT_ENV_MISSING naming the variable; an empty one VAULT_KEY_EMPTY', () => {
  assert.throws(
    () => readKeysFromEnv({ DD_APP_KEY: 'secretapp' }),
    (err: unknown) => {
      assert.ok(isVaultError(err) && err.code === 'VAULT_ENV_MISSING');
      assert.match(err.message, /DD_API_KEY/);
      assert.ok(!err.message.includes('secretapp'));
      return true;
    },
  );
  assert.throws(() => readKeysFromEnv({ DD_API_KEY: '  ' }), codeOf('VAULT_KEY_EMPTY'));
});

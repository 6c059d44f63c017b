// systemd's LoadCredential= hands the unit a vault seed; serve adds its entries, never overwriting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startAirlock, curlVia } from '../fixtures/airlock-process.js';

test('a vault seed credential fills an empty vault at start (0600) and never overwrites an entry', async () => {
  const credDir = mkdtempSync(join(tmpdir(), 'airlock-cred-'));
  const seedKey = `ddseed${randomBytes(16).toString('hex')}`;
  writeFileSync(join(credDir, 'airlock_vault-seed'), JSON.stringify({ 'dd-prod': { apiKey: seedKey } }), { mode: 0o600 });
  const a = await startAirlock({ noVault: true, serveEnv: { CREDENTIALS_DIRECTORY: credDir } });
  try {
    a.datadog.apiKeys.add(seedKey);
    const token = await a.issuer.mint();
    const r = await curlVia(a, token, 'https://api.datadoghq.com/api/v1/validate', ['--fail-with-body']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(a.datadog.received.at(-1)?.headers['dd-api-key'], seedKey);
    assert.equal(statSync(join(a.stateDir, 'vault.json')).mode & 0o777, 0o600);
    assert.ok(!a.logs.join('\n').includes(seedKey), 'the seed key is never logged');

    // A later seed with another key for the same name does not undo what the vault holds.
    writeFileSync(join(credDir, 'airlock_vault-seed'), JSON.stringify({ 'dd-prod': { apiKey: `other${seedKey}` } }));
    await a.stop();
    await a.start();
    const r2 = await curlVia(a, await a.issuer.mint(), 'https://api.datadoghq.com/api/v1/validate', ['--fail-with-body']);
    assert.equal(r2.code, 0, r2.stdout + r2.stderr);
    assert.equal(a.datadog.received.at(-1)?.headers['dd-api-key'], seedKey);
  } finally {
    await a.cleanup();
    rmSync(credDir, { recursive: true, force: true });
  }
});

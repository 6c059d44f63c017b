// Key sources with real processes and files: a credential-process script, a rendered file
// replaced by rename and rewritten in place, failures that keep the last good value (stale),
// expiry that makes the entry missing, and never a key in a log line or an error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { chmodSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../../appliance/log.js';
import { KeySources, runCredentialProcess } from '../../../appliance/credentials/key-sources.js';
import { parseKeyOutput } from '../../../appliance/credentials/key-output.js';
import { VaultReader } from '../../../appliance/credentials/vault-reader.js';
import { VaultStore } from '../../../appliance/credentials/vault-store.js';
import { waitFor } from '../../fixtures/wait-for.js';

const K1 = '1'.repeat(32);
const K2 = '2'.repeat(32);
const APP1 = 'a'.repeat(40);

function capture() {
  const stream = new PassThrough();
  const lines: string[] = [];
  stream.on('data', (chunk: Buffer) => lines.push(...chunk.toString('utf8').split('\n').filter(Boolean)));
  return { log: createLogger({ level: 'debug', destination: stream }), lines };
}

function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-src-'));
  return fn(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
}

/** A credential process: prints the file `out` holds, or fails as `fail` says. */
function script(dir: string): { path: string; out: string; fail: string } {
  const path = join(dir, 'cred.sh');
  const out = join(dir, 'out.json');
  const fail = join(dir, 'fail');
  writeFileSync(path, `#!/bin/sh\nif [ -e '${fail}' ]; then echo "vault said no for $(cat '${fail}')" >&2; exit 3; fi\ncat '${out}'\n`);
  chmodSync(path, 0o700);
  return { path, out, fail };
}

test('parseKeyOutput reads JSON with expiresAt (ISO or epoch seconds) or a bare key, and its errors quote no value', () => {
  assert.deepEqual(parseKeyOutput(`{"apiKey":"${K1}","appKey":"${APP1}","expiresAt":"2030-01-01T00:00:00Z"}`, 'x'), {
    apiKey: K1,
    appKey: APP1,
    expiresAt: Date.parse('2030-01-01T00:00:00Z'),
  });
  assert.deepEqual(parseKeyOutput(`{"apiKey":"${K1}","expiresAt":1900000000}`, 'x'), { apiKey: K1, expiresAt: 1_900_000_000_000 });
  assert.deepEqual(parseKeyOutput(`${K1}\n`, 'x'), { apiKey: K1 });
  for (const bad of [`{"apiKey":"${K1}","expiresAt":"soon ${K2}"}`, `{"appKey":"${K2}"}`, `{"apiKey":"${K1}`]) {
    assert.throws(
      () => parseKeyOutput(bad, 'the source'),
      (err: Error) => !err.message.includes(K1) && !err.message.includes(K2),
    );
  }
});

test('a credential process runs without a shell; a failure names the exit and redacts key-shaped stderr', async () => {
  await withDir(async (dir) => {
    const s = script(dir);
    writeFileSync(s.fail, K2);
    await assert.rejects(
      runCredentialProcess([s.path]),
      (err: Error) => /exited with 3/.test(err.message) && !err.message.includes(K2) && /\[key-shaped\]/.test(err.message),
    );
    await assert.rejects(runCredentialProcess([join(dir, 'nope')]), /could not run \(ENOENT\)/);
    // No shell: a metacharacter is an argument, not a command.
    assert.equal((await runCredentialProcess(['/bin/echo', '$(id);', K1])).trim(), `$(id); ${K1}`);
  });
});

test('exec source: refreshed within its ttl; a failed refresh keeps the last good value as stale; an expired value is missing', async () => {
  await withDir(async (dir) => {
    const { log, lines } = capture();
    const s = script(dir);
    writeFileSync(s.out, JSON.stringify({ apiKey: K1, appKey: APP1 }));
    const src = new KeySources({ log });
    try {
      await src.sync([{ name: 'dd', source: { type: 'exec', command: [s.path], ttl: '1s' } }]);
      assert.equal(src.current('dd')?.apiKey, K1);
      writeFileSync(s.out, JSON.stringify({ apiKey: K2 }));
      await waitFor('the refreshed key', () => (src.current('dd')?.apiKey === K2 ? true : undefined), 10_000);
      assert.ok(src.values().includes(K1), 'the old value is still masked');
      writeFileSync(s.fail, K1);
      await waitFor('stale', () => (src.status()[0]?.state === 'stale' ? true : undefined), 10_000);
      assert.equal(src.current('dd')?.apiKey, K2, 'the last good value is kept');
      assert.match(src.status()[0]!.error!, /exited with 3/);
      rmSync(s.fail);
      writeFileSync(s.out, JSON.stringify({ apiKey: K2, expiresAt: new Date(Date.now() - 1000).toISOString() }));
      await waitFor('missing after expiry', () => (src.status()[0]?.state === 'missing' ? true : undefined), 10_000);
      assert.equal(src.current('dd'), null);
    } finally {
      src.stop();
    }
    const all = lines.join('\n');
    for (const k of [K1, K2, APP1]) assert.ok(!all.includes(k), 'no key in any log line');
    assert.match(all, /keeping the last good value/);
  });
});

test('exec source that never succeeds is missing from the start (CREDENTIAL_MISSING), and says why', async () => {
  await withDir(async (dir) => {
    const { log } = capture();
    const s = script(dir);
    writeFileSync(s.fail, 'x');
    const src = new KeySources({ log });
    try {
      await src.sync([{ name: 'dd', source: { type: 'exec', command: [s.path], ttl: '10m' } }]);
      assert.equal(src.current('dd'), null);
      assert.equal(src.status()[0]?.state, 'missing');
    } finally {
      src.stop();
    }
  });
});

test('file source: a rename-replaced file and an in-place rewrite are both picked up; the reader injects what the file holds; vault ls shows the source', async () => {
  await withDir(async (dir) => {
    const { log, lines } = capture();
    const keyFile = join(dir, 'render', 'dd.json');
    const state = join(dir, 'state');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(dir, 'render'));
    writeFileSync(keyFile, JSON.stringify({ apiKey: K1 }));
    await new VaultStore(state).putSource('dd-prod', { type: 'file', path: keyFile });
    const reader = new VaultReader(state, { log, pollMs: 200 });
    await reader.start();
    try {
      assert.equal(reader.get('dd-prod')?.apiKey, K1);
      writeFileSync(`${keyFile}.new`, JSON.stringify({ apiKey: K2, appKey: APP1 }));
      renameSync(`${keyFile}.new`, keyFile);
      await waitFor('the replaced file', () => (reader.get('dd-prod')?.apiKey === K2 ? true : undefined));
      assert.equal(reader.get('dd-prod')?.appKey, APP1);
      writeFileSync(keyFile, K1);
      await waitFor('the rewritten file', () => (reader.get('dd-prod')?.apiKey === K1 ? true : undefined));
      assert.ok(reader.allSecretValues().includes(K2), 'the rotated-out key is still masked');
      const ls = await new VaultStore(state).list();
      assert.equal(ls[0]?.source, 'file');
      assert.equal(ls[0]?.state, 'fresh');
      assert.ok(!JSON.stringify(ls).includes(K1));
    } finally {
      reader.stop();
    }
    for (const k of [K1, K2, APP1]) assert.ok(!lines.join('\n').includes(k));
  });
});

test('vault rotate moves the current keys to previous with a grace period; previous keys are masked and listed by fingerprint only', async () => {
  await withDir(async (dir) => {
    const store = new VaultStore(dir);
    await store.put('dd', { apiKey: K1, appKey: APP1 });
    await store.rotate('dd', { apiKey: K2 }, 3_600_000);
    const e = await store.get('dd');
    assert.equal(e?.apiKey, K2);
    assert.equal(e?.appKey, APP1, 'the app key is kept when no new one is given');
    assert.equal(e?.previous?.[0]?.apiKey, K1);
    assert.ok(Date.parse(e.previous[0].until) > Date.now());
    const ls = await store.list();
    assert.equal(ls[0]?.previous.length, 1);
    assert.ok(!JSON.stringify(ls).includes(K1) && !JSON.stringify(ls).includes(K2));
    const reader = new VaultReader(dir, { log: capture().log });
    await reader.start();
    try {
      assert.equal(reader.get('dd')?.apiKey, K2);
      assert.ok(reader.allSecretValues().includes(K1));
    } finally {
      reader.stop();
    }
  });
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadOrCreateCa, readCaCert } from '../../../certs/ca-store.js';

const YEAR = 365 * 24 * 3_600_000;
const OPTS = { permittedDomains: ['datadoghq.com'], validityMs: YEAR };

function tempRoot(t: { after: (fn: () => void) => void }): string {
  const root = mkdtempSync(join(tmpdir(), 'airlock-ca-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  return root;
}

const mode = (p: string): number => statSync(p).mode & 0o777;

test('a missing CA is created: dir 0700, ca.key 0600, ca.crt 0644, and no temp files left', async (t) => {
  const dir = join(tempRoot(t), 'ca');
  const { ca, created } = await loadOrCreateCa(dir, OPTS);
  assert.equal(created, true);
  assert.equal(mode(dir), 0o700);
  assert.equal(mode(join(dir, 'ca.key')), 0o600);
  assert.equal(mode(join(dir, 'ca.crt')), 0o644);
  assert.equal(readFileSync(join(dir, 'ca.crt'), 'utf8'), ca.certPem);
  assert.equal(readFileSync(join(dir, 'ca.key'), 'utf8'), ca.keyPem);
  assert.deepEqual(readdirSync(dir).sort(), ['ca.crt', 'ca.key']);
});

test('the key is written 0600 even under a permissive umask', async (t) => {
  const dir = join(tempRoot(t), 'ca');
  const old = process.umask(0);
  try {
    await loadOrCreateCa(dir, OPTS);
  } finally {
    process.umask(old);
  }
  assert.equal(mode(join(dir, 'ca.key')), 0o600);
  assert.equal(mode(join(dir, 'ca.crt')), 0o644);
});

test('an existing CA is loaded unchanged without force (init is idempotent)', async (t) => {
  const dir = tempRoot(t);
  const first = await loadOrCreateCa(dir, OPTS);
  const again = await loadOrCreateCa(dir, { ...OPTS, permittedDomains: ['other.com'] });
  assert.equal(again.created, false);
  assert.deepEqual(again.ca, first.ca);
});

test('force replaces an existing CA with a new key and certificate', async (t) => {
  const dir = tempRoot(t);
  const first = await loadOrCreateCa(dir, OPTS);
  const forced = await loadOrCreateCa(dir, { ...OPTS, force: true });
  assert.equal(forced.created, true);
  assert.notEqual(forced.ca.keyPem, first.ca.keyPem);
  assert.equal(readFileSync(join(dir, 'ca.crt'), 'utf8'), forced.ca.certPem);
  assert.equal(mode(join(dir, 'ca.key')), 0o600);
  assert.deepEqual(readdirSync(dir).sort(), ['ca.crt', 'ca.key']);
});

test('a certificate without its key is an error CA_KEY_MISSING, not a silent regeneration', async (t) => {
  const dir = tempRoot(t);
  const { ca } = await loadOrCreateCa(dir, OPTS);
  unlinkSync(join(dir, 'ca.key'));
  await assert.rejects(loadOrCreateCa(dir, OPTS), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'CA_KEY_MISSING');
    assert.match(err.message, /airlock ca init --force/);
    return true;
  });
  assert.equal(readFileSync(join(dir, 'ca.crt'), 'utf8'), ca.certPem);
});

test('a key without its certificate is an error CA_CERT_MISSING', async (t) => {
  const dir = tempRoot(t);
  await loadOrCreateCa(dir, OPTS);
  unlinkSync(join(dir, 'ca.crt'));
  await assert.rejects(loadOrCreateCa(dir, OPTS), { code: 'CA_CERT_MISSING' });
});

test('a corrupt key is an error CA_INVALID whose message holds no key material', async (t) => {
  const dir = tempRoot(t);
  const { ca } = await loadOrCreateCa(dir, OPTS);
  const corrupt = ca.keyPem.slice(0, 200) + 'garbage\n-----END PRIVATE KEY-----\n';
  writeFileSync(join(dir, 'ca.key'), corrupt, { mode: 0o600 });
  await assert.rejects(loadOrCreateCa(dir, OPTS), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'CA_INVALID');
    assert.match(err.message, /ca init --force/);
    const body = ca.keyPem.split('\n')[1] ?? 'x';
    assert.ok(!err.message.includes(body.slice(0, 20)));
    return true;
  });
});

test('a key belonging to another CA is an error CA_KEY_MISMATCH', async (t) => {
  const a = tempRoot(t);
  const b = tempRoot(t);
  await loadOrCreateCa(a, OPTS);
  const other = await loadOrCreateCa(b, OPTS);
  writeFileSync(join(a, 'ca.key'), other.ca.keyPem, { mode: 0o600 });
  await assert.rejects(loadOrCreateCa(a, OPTS), { code: 'CA_KEY_MISMATCH' });
});

test('a key readable by group or others is refused with CA_KEY_PERMISSIONS', async (t) => {
  const dir = tempRoot(t);
  await loadOrCreateCa(dir, OPTS);
  chmodSync(join(dir, 'ca.key'), 0o644);
  await assert.rejects(loadOrCreateCa(dir, OPTS), { code: 'CA_KEY_PERMISSIONS' });
});

test('readCaCert returns the certificate PEM, and CA_CERT_MISSING when there is none', async (t) => {
  const dir = tempRoot(t);
  assert.throws(() => readCaCert(dir), { code: 'CA_CERT_MISSING' });
  const { ca } = await loadOrCreateCa(dir, OPTS);
  assert.equal(readCaCert(dir), ca.certPem);
  assert.equal(new X509Certificate(readCaCert(dir)).ca, true);
  writeFileSync(join(dir, 'ca.crt'), 'not a certificate');
  assert.throws(() => readCaCert(dir), { code: 'CA_INVALID' });
});

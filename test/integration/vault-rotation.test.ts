// Key rotation without touching a runner, under load: the vault entry's keys come from a file a
// secrets agent renders (replaced by rename) or from a credential-process script; while requests
// keep flowing, the key is rotated (Datadog accepts both during the overlap, then the old one is
// revoked). No request fails, the new key reaches Datadog, and no key value appears in a log
// line, a recorded session, `vault ls` or an error.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ProxyAgent, request } from 'undici';
import { startAirlock, type Airlock } from '../fixtures/airlock-process.js';
import { waitFor } from '../fixtures/wait-for.js';

let a: Airlock;
let ca: string;
const K1 = randomBytes(16).toString('hex');
const K2 = randomBytes(16).toString('hex');
const K3 = randomBytes(16).toString('hex');
const VALIDATE = 'https://api.datadoghq.com/api/v1/validate';

before(async () => {
  a = await startAirlock({ noVault: true });
  a.datadog.apiKeys.add(K1);
});
after(async () => {
  await a?.cleanup();
});

/** Every file under dir, as text. */
function allText(dir: string): string {
  let out = '';
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) out += allText(p);
    else if (st.isFile() && st.size < 64 * 1024 * 1024) out += readFileSync(p, 'latin1');
  }
  return out;
}

/** `workers` loops of requests through Airlock until stop() resolves; returns every status seen. */
function load(token: string, workers: number): { stop: () => Promise<number[]>; count: () => number } {
  const dispatcher = new ProxyAgent({ uri: a.proxyUrl, token: `Bearer ${token}`, requestTls: { ca } });
  const statuses: number[] = [];
  let running = true;
  const loops = Array.from({ length: workers }, async () => {
    while (running) {
      try {
        const r = await request(VALIDATE, { dispatcher });
        await r.body.dump();
        statuses.push(r.statusCode);
      } catch {
        statuses.push(0);
      }
    }
  });
  return {
    count: () => statuses.length,
    stop: async () => {
      running = false;
      await Promise.all(loops);
      await dispatcher.close();
      return statuses;
    },
  };
}

async function seenKeyAfter(from: number, key: string): Promise<void> {
  await waitFor('the new key at Datadog', () => (a.datadog.received.slice(from).some((r) => r.headers['dd-api-key'] === key) ? true : undefined), 15_000);
}

test('a file source replaced by rename mid-load: no request fails, the new key is injected, no key is logged or recorded', async () => {
  const renderDir = join(a.dir, 'render');
  mkdirSync(renderDir, { mode: 0o700 });
  const keyFile = join(renderDir, 'dd-prod.json');
  writeFileSync(keyFile, JSON.stringify({ apiKey: K1 }), { mode: 0o600 });
  const put = await a.cli(['vault', 'put', 'dd-prod', '--source-file', keyFile]);
  assert.equal(put.code, 0, put.stderr);
  // The running server picks the new entry up within 2 s.
  await waitFor(
    'the file source loaded',
    () => (a.logs.some((l) => l.includes('"source":"file"') && l.includes('key source: new value')) ? true : undefined),
    15_000,
  );
  ca = readFileSync(a.caPath, 'utf8');
  const token = await a.issuer.mint({ run_id: 'rot-1' });

  const l = load(token, 8);
  await waitFor('load under way', () => (l.count() > 50 ? true : undefined), 15_000);
  // Overlap: Datadog accepts the new key before the agent renders it.
  a.datadog.apiKeys.add(K2);
  const from = a.datadog.received.length;
  writeFileSync(`${keyFile}.tmp`, JSON.stringify({ apiKey: K2 }), { mode: 0o600 });
  renameSync(`${keyFile}.tmp`, keyFile);
  await seenKeyAfter(from, K2);
  // The old key is revoked at Datadog; requests keep flowing on the new one.
  a.datadog.apiKeys.delete(K1);
  const n = l.count();
  await waitFor('load after the revocation', () => (l.count() > n + 50 ? true : undefined), 15_000);
  const statuses = await l.stop();
  assert.ok(statuses.length > 100);
  assert.deepEqual([...new Set(statuses)], [200], 'no request failed during the rotation');

  const ls = await a.cli(['vault', 'ls', '--json']);
  assert.equal(ls.code, 0, ls.stderr);
  const entry = (JSON.parse(ls.stdout) as { name: string; source: string; state: string }[])[0]!;
  assert.deepEqual([entry.name, entry.source, entry.state], ['dd-prod', 'file', 'fresh']);
  const haystack = a.logs.join('\n') + a.stderr.join('') + ls.stdout + allText(a.stateDir);
  for (const k of [K1, K2]) assert.ok(!haystack.includes(k), 'no key in a log line, the state dir (vault, sessions, status) or vault ls');
});

test('an exec source (credential-process script, ttl 1s) rotated mid-load: no request fails; a failing process keeps the last good key, marked stale in vault ls', async () => {
  const out = join(a.dir, 'cred-out.json');
  const fail = join(a.dir, 'cred-fail');
  const script = join(a.dir, 'cred.sh');
  writeFileSync(out, JSON.stringify({ apiKey: K2, expiresAt: new Date(Date.now() + 3_600_000).toISOString() }), { mode: 0o600 });
  writeFileSync(script, `#!/bin/sh\nif [ -e '${fail}' ]; then echo "secrets backend unavailable" >&2; exit 2; fi\ncat '${out}'\n`);
  chmodSync(script, 0o700);
  const put = await a.cli(['vault', 'put', 'dd-prod', '--source-exec', script, '--ttl', '1s']);
  assert.equal(put.code, 0, put.stderr);
  const token = await a.issuer.mint({ run_id: 'rot-2' });
  // The server picks the changed entry up within 2 s.
  await waitFor(
    'the exec source started',
    () => (a.logs.some((l) => l.includes('"source":"exec"') && l.includes('key source: new value')) ? true : undefined),
    15_000,
  );

  const l = load(token, 8);
  await waitFor('load under way', () => (l.count() > 50 ? true : undefined), 15_000);
  a.datadog.apiKeys.add(K3);
  const from = a.datadog.received.length;
  writeFileSync(`${out}.tmp`, JSON.stringify({ apiKey: K3 }), { mode: 0o600 });
  renameSync(`${out}.tmp`, out);
  await seenKeyAfter(from, K3);
  a.datadog.apiKeys.delete(K2);
  // The backend goes away: the last good key stays in use, the entry is stale.
  writeFileSync(fail, '');
  await waitFor('a failed refresh', () => (a.logs.some((l) => l.includes('keeping the last good value')) ? true : undefined), 15_000);
  const n = l.count();
  await waitFor('load on the stale key', () => (l.count() > n + 50 ? true : undefined), 15_000);
  const statuses = await l.stop();
  assert.deepEqual([...new Set(statuses)], [200], 'no request failed during the rotation or the outage');

  const ls = await a.cli(['vault', 'ls']);
  assert.equal(ls.code, 0, ls.stderr);
  assert.match(ls.stdout, /dd-prod\s+\S+\s+-\s+exec\s+stale/);
  const haystack = a.logs.join('\n') + a.stderr.join('') + ls.stdout + allText(a.stateDir);
  for (const k of [K1, K2, K3]) assert.ok(!haystack.includes(k), 'no key anywhere');
});

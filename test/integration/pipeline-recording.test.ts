// What gets written: HAR sessions that validate, open in Chromium's DevTools importer, survive
// kill -9, finish in-flight work on SIGTERM, and never hold a secret anywhere on disk or in logs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startAirlock, curlVia, type Airlock } from '../fixtures/airlock-process.js';
import { validateHar } from '../fixtures/har-validate.js';
import { importInDevTools } from '../fixtures/devtools-import.js';

interface Har {
  log: {
    _airlock: Record<string, unknown>;
    entries: Array<
      Record<string, unknown> & {
        request: { url: string; method: string };
        response: { status: number; content: { text?: string } };
        _airlock: Record<string, unknown>;
        comment?: string;
        _error?: string;
      }
    >;
  };
}

let a: Airlock;
const AGENT_KEY = `agentkey${randomBytes(12).toString('hex')}`;
const tokens: string[] = [];

async function mint(claims: Record<string, unknown> = {}): Promise<string> {
  const t = await a.issuer.mint(claims);
  tokens.push(t);
  return t;
}

async function sessionIds(): Promise<Array<{ id: string; status: string; sub: string; entryCount: number }>> {
  const r = await a.cli(['sessions', 'ls', '--json']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Array<{ id: string; status: string; sub: string; entryCount: number }>;
}

before(async () => {
  a = await startAirlock({ config: { recording: { maxBodyBytes: 65_536 } }, extraResolve: { 'dead.datadoghq.com': '127.0.0.1:1' } });
});
after(async () => {
  await a.cleanup();
});

test('an open session exports as a valid HAR snapshot and closes into its final HAR on request', async () => {
  const token = await mint({ sub: 'repo:acme/app:ref:refs/heads/main', run_id: '5001' });
  const body = JSON.stringify({ title: 'snap', layout_type: 'ordered', widgets: [] });
  const r = await curlVia(a, token, 'https://api.datadoghq.com/api/v1/dashboard', [
    '-H',
    `DD-API-KEY: ${AGENT_KEY}`,
    '-H',
    'content-type: application/json',
    '-d',
    body,
  ]);
  assert.match(r.stdout, /abc-def-/);
  const s = (await sessionIds()).find((x) => x.status === 'open' && x.sub === 'repo:acme/app:ref:refs/heads/main');
  assert.ok(s, 'the session is listed as open');
  const snap = await a.cli(['sessions', 'export', s.id]);
  assert.equal(snap.code, 0, snap.stderr);
  const har = JSON.parse(snap.stdout) as Har;
  assert.deepEqual(validateHar(har), []);
  assert.equal(har.log.entries.length, 1);
  const closed = await a.cli(['sessions', 'close', s.id]);
  assert.equal(closed.code, 0, closed.stderr);
  assert.ok(existsSync(join(a.stateDir, 'sessions', `${s.id}.har`)));
  const again = await a.cli(['sessions', 'show', s.id, '--json']);
  assert.equal((JSON.parse(again.stdout) as { status: string }).status, 'closed');
});

test('a body over maxBodyBytes reaches the client whole and is recorded truncated with a comment', async () => {
  const token = await mint({ run_id: '5002' });
  const r = await curlVia(a, token, 'https://api.datadoghq.com/big?bytes=3000000', ['-o', '/dev/null', '-w', '%{size_download}']);
  assert.equal(r.stdout, '3000000');
  const s = (await sessionIds()).find((x) => x.status === 'open');
  assert.ok(s);
  const har = JSON.parse((await a.cli(['sessions', 'export', s.id])).stdout) as Har;
  const e = har.log.entries.find((x) => x.request.url.endsWith('/big?bytes=3000000'));
  assert.ok(e);
  assert.match(String(e.comment), /truncat/i);
  assert.ok(e._airlock['truncated'], '_airlock.truncated is set');
  assert.deepEqual(validateHar(har), []);
});

test('a request whose upstream is unreachable is recorded with the 502 the client got and an _error', async () => {
  const token = await mint({ run_id: '5003' });
  // dead.datadoghq.com is pinned to a closed port: the outage is real, on loopback.
  const r = await curlVia(a, token, 'https://dead.datadoghq.com/api/v1/validate', ['-o', '/dev/null', '-w', '%{http_code}']);
  assert.equal(r.stdout, '502');
  const s = (await sessionIds()).find((x) => x.status === 'open');
  assert.ok(s);
  const har = JSON.parse((await a.cli(['sessions', 'export', s.id])).stdout) as Har;
  const e = har.log.entries.find((x) => x.request.url.startsWith('https://dead.datadoghq.com/'));
  assert.ok(e, 'the failed exchange is in the session');
  assert.equal(e.response.status, 502, 'what the client saw');
  assert.match(String(e._error), /UPSTREAM_UNREACHABLE|ECONNREFUSED|unreachable/i);
  assert.equal(e._airlock['errorCode'], 'UPSTREAM_UNREACHABLE');
  assert.deepEqual(validateHar(har), []);
});

test('SIGTERM lets an in-flight exchange finish, finalizes every session and exits 0', async () => {
  const token = await mint({ run_id: '5004' });
  const slow = curlVia(a, token, 'https://api.datadoghq.com/slow?ms=1500', ['-o', '/dev/null', '-w', '%{http_code}']);
  // In flight for sure: Datadog has the request and answers 1.5 s later.
  await a.datadog.arrived((r) => r.path === '/slow?ms=1500');
  const code = await a.stop('SIGTERM');
  assert.equal((await slow).stdout, '200', 'the in-flight request completed');
  assert.equal(code, 0);
  const files = readdirSync(join(a.stateDir, 'sessions'));
  assert.equal(files.filter((f) => f.endsWith('.jsonl')).length, 0, 'no journal is left open');
  const hars = files.filter((f) => f.endsWith('.har'));
  assert.ok(hars.length >= 3);
  for (const f of hars) {
    const har = JSON.parse(readFileSync(join(a.stateDir, 'sessions', f), 'utf8')) as Har;
    assert.deepEqual(validateHar(har), [], f);
    assert.equal(har.log._airlock['grant'], 'dashboards-bot');
    assert.equal(har.log._airlock['issuer'], 'github');
    for (const e of har.log.entries) {
      assert.equal(e['_resourceType'], 'fetch');
      assert.equal(e._airlock['credential'], 'dd-prod');
    }
  }
  await a.start();
});

test('after kill -9 the next serve turns the orphaned journal into a HAR holding every complete exchange', async () => {
  const token = await mint({ run_id: '5005' });
  for (let i = 0; i < 3; i++) {
    const r = await curlVia(a, token, 'https://api.datadoghq.com/api/v1/validate', ['-o', '/dev/null', '-w', '%{http_code}']);
    assert.equal(r.stdout, '200');
  }
  const open = (await sessionIds()).find((x) => x.status === 'open');
  assert.ok(open);
  await a.stop('SIGKILL');
  assert.ok(existsSync(join(a.stateDir, 'sessions', `${open.id}.jsonl`)), 'the journal survived the crash');
  await a.start();
  const harPath = join(a.stateDir, 'sessions', `${open.id}.har`);
  assert.ok(existsSync(harPath), 'recovered at start');
  const har = JSON.parse(readFileSync(harPath, 'utf8')) as Har;
  assert.deepEqual(validateHar(har), []);
  assert.equal(har.log.entries.filter((e) => e.response.status === 200).length, 3);
});

test("every recorded session imports in Chromium's real DevTools HAR importer", async () => {
  const dir = join(a.stateDir, 'sessions');
  const hars = readdirSync(dir).filter((f) => f.endsWith('.har'));
  assert.ok(hars.length >= 4);
  for (const f of hars) {
    const har = JSON.parse(readFileSync(join(dir, f), 'utf8')) as Har;
    const imported = await importInDevTools(har);
    assert.equal(imported.requests, har.log.entries.length, f);
  }
});

test('no secret appears in any file under the state dir (but the vault and CA key) or in any log line', async () => {
  const secrets = [a.apiKey, a.appKey, AGENT_KEY, ...tokens, ...tokens.map((t) => t.split('.')[2]!)];
  const offenders: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else if (st.isFile() && p !== join(a.stateDir, 'vault.json') && p !== join(a.stateDir, 'ca', 'ca.key')) {
        const text = readFileSync(p, 'latin1');
        for (const s of secrets) if (text.includes(s)) offenders.push(`${p} holds a secret`);
      }
    }
  };
  walk(a.stateDir);
  const logs = [...a.logs, ...a.stderr].join('\n');
  for (const s of secrets) if (logs.includes(s)) offenders.push('a log line holds a secret');
  assert.deepEqual(offenders, []);
  assert.equal(statSync(join(a.stateDir, 'vault.json')).mode & 0o777, 0o600);
  assert.equal(statSync(join(a.stateDir, 'ca', 'ca.key')).mode & 0o777, 0o600);
});

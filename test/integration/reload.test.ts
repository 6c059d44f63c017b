// Issue 12: SIGHUP (systemctl reload) and `airlock reload` re-read the config in a running
// `airlock serve`: the new policy applies to new requests, while a held approval, the recording
// session and an open keep-alive connection survive; a broken config is refused with its errors
// logged and the old one keeps running; SIGTERM still stops it cleanly.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { ProxyAgent, request } from 'undici';
import { parse, stringify } from 'yaml';
import { startAirlock, type Airlock } from '../fixtures/airlock-process.js';
import { waitFor } from '../fixtures/wait-for.js';

const STRICT = {
  default: 'deny',
  rules: [
    { match: 'GET /api/v1/validate', action: 'allow' },
    { match: 'DELETE /api/v1/dashboard/*', action: 'approve' },
  ],
};
const WIDER = { ...STRICT, rules: [...STRICT.rules, { match: 'POST /api/v1/dashboard', action: 'allow' }] };

let a: Airlock;
let dispatcher: ProxyAgent;
let original = '';

function writePolicy(policy: unknown): void {
  const cfg = parse(original) as Record<string, unknown>;
  cfg['policies'] = { writer: policy };
  writeFileSync(a.configPath, stringify(cfg));
}

/** SIGHUP, then the log line it produces (the n-th reload line). */
async function hup(): Promise<string> {
  const before = a.logs.filter((l) => l.includes('config reload')).length;
  a.child!.kill('SIGHUP');
  return waitFor('a reload log line', () => a.logs.filter((l) => l.includes('config reload'))[before]);
}

async function post(): Promise<number> {
  const r = await request('https://api.datadoghq.com/api/v1/dashboard', {
    method: 'POST',
    dispatcher,
    headers: { 'content-type': 'application/json' },
    body: '{"title":"r","widgets":[]}',
  });
  await r.body.text();
  return r.statusCode;
}

before(async () => {
  a = await startAirlock({ grantPolicy: 'writer', config: { policies: { writer: STRICT }, approvals: { timeout: '60s' } } });
  original = readFileSync(a.configPath, 'utf8');
  const token = await a.issuer.mint({ run_id: 'reload-1' });
  // One client, one keep-alive connection through the whole test.
  dispatcher = new ProxyAgent({
    uri: a.proxyUrl,
    token: `Bearer ${token}`,
    requestTls: { ca: readFileSync(a.caPath, 'utf8') },
    connections: 1,
    headersTimeout: 60_000,
    bodyTimeout: 60_000,
  });
});

after(async () => {
  await dispatcher?.close();
  await a?.cleanup();
});

test('SIGHUP applies a new policy to new requests; a held approval, the session and the open connection survive it', async () => {
  assert.equal(await post(), 403, 'the first policy denies it');
  const held = request('https://api.datadoghq.com/api/v1/dashboard/abc-def-001', {
    method: 'DELETE',
    dispatcher: new ProxyAgent({
      uri: a.proxyUrl,
      token: `Bearer ${await a.issuer.mint({ run_id: 'reload-1' })}`,
      requestTls: { ca: readFileSync(a.caPath, 'utf8') },
    }),
  });
  const holdId = await waitFor('the hold', async () => {
    const r = await a.cli(['approvals', 'ls', '--json']);
    return r.code === 0 ? (JSON.parse(r.stdout) as { id: string }[])[0]?.id : undefined;
  });
  writePolicy(WIDER);
  const line = await hup();
  assert.match(line, /config reloaded: policies changed/);
  assert.equal(a.child!.exitCode, null, 'SIGHUP does not stop serve');
  assert.equal(await post(), 200, 'the new policy applies, on the same connection');
  const ok = await a.cli(['approvals', 'approve', holdId]);
  assert.equal(ok.code, 0, `the hold made before the reload is still there: ${ok.stderr}`);
  const r = await held;
  assert.equal(r.statusCode, 200);
  await r.body.text();
  const ls = JSON.parse((await a.cli(['sessions', 'ls', '--json'])).stdout) as { id: string; status: string }[];
  assert.equal(ls.length, 1, 'every request before and after the reload is in one session');
  assert.equal(ls[0]?.status, 'open');
});

test('a broken config is refused with its errors logged, and the running one stays in force', async () => {
  writeFileSync(a.configPath, stringify({ ...(parse(original) as object), policies: { writer: { default: 'maybe' } } }));
  const line = await hup();
  assert.match(line, /config reload refused; the previous config keeps running/);
  assert.match(line, /policies\.writer\.default/);
  assert.equal(a.child!.exitCode, null);
  assert.equal(await post(), 200, 'the last good config (WIDER) still applies');
});

test('airlock reload prints what changed, refuses a restart-only change by name, and exits 1 with the errors of a broken file', async () => {
  writePolicy(STRICT);
  const r = await a.cli(['reload']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'reloaded: policies changed');
  assert.equal(await post(), 403, 'STRICT again');
  const cfg = parse(original) as Record<string, unknown>;
  writeFileSync(a.configPath, stringify({ ...cfg, policies: { writer: WIDER }, limits: { idleTimeout: '30s' } }));
  const fixed = await a.cli(['reload', '--json']);
  assert.equal(fixed.code, 1);
  const verdict = JSON.parse(fixed.stdout) as { ok: boolean; errors: string[] };
  assert.equal(verdict.ok, false);
  assert.match(verdict.errors.join('\n'), /^limits: changed, but only a restart applies it/m);
  assert.equal(await post(), 403, 'nothing of a refused reload applies, not even its policy');
  // A file the CLI itself cannot read is a config error (exit 2) before the server is asked.
  writeFileSync(a.configPath, 'policies: [');
  const broken = await a.cli(['reload']);
  assert.equal(broken.code, 2);
  assert.match(broken.stderr, /^airlock: CONFIG_INVALID: .*airlock\.yaml is invalid:\n {2}\(file\): YAML/m);
  assert.equal(await post(), 403, 'still the last good config');
});

test('SIGTERM after reloads still stops serve cleanly with exit 0', async () => {
  writeFileSync(a.configPath, original);
  assert.equal(await a.stop('SIGTERM'), 0);
  assert.ok(a.logs.some((l) => l.includes('airlock stopped')));
});

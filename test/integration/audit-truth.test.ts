// Issue 12: the recording holds exactly what the client saw and what reached Datadog, and every
// reader (the HAR, sessions grep/show, replay, policy suggest, Chrome DevTools) tells the same story.
// One real `airlock serve`, real TLS, undici as the client, the real CLI.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ProxyAgent, request } from 'undici';
import { parse, stringify } from 'yaml';
import { CLI, run, runCli, startAirlock, type Airlock } from '../fixtures/airlock-process.js';
import { importInDevTools } from '../fixtures/devtools-import.js';
import { validateHar } from '../fixtures/har-validate.js';
import { waitFor } from '../fixtures/wait-for.js';

const POLICY = {
  default: 'deny',
  rules: [
    { match: 'GET /api/v1/validate', action: 'allow' },
    { match: 'GET /api/v1/dashboard/*', action: 'allow' },
    { match: 'POST /api/v1/dashboard', action: 'allow' },
    { match: 'DELETE /api/v1/dashboard/*', action: 'approve' },
    { match: '* /api/v1/monitor/**', action: 'deny', reason: 'monitors are owned by the SRE team' },
  ],
};

let a: Airlock;
let ca: string;
let session = '';

interface Entry {
  request: { method: string; url: string };
  response: { status: number; headers: { name: string; value: string }[]; content: { text?: string; size: number } };
  _error?: string;
  _airlock: { decision: string; code?: string; errorCode?: string; forwarded?: boolean; rule?: Record<string, unknown> };
}

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; text: string; code: string | undefined }> {
  const token = await a.issuer.mint({ run_id: 'truth-1' });
  const dispatcher = new ProxyAgent({ uri: a.proxyUrl, token: `Bearer ${token}`, requestTls: { ca }, headersTimeout: 60_000, bodyTimeout: 60_000 });
  try {
    const r = await request(`https://api.datadoghq.com${path}`, {
      method: method as 'GET',
      dispatcher,
      headers: { 'content-type': 'application/json' },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await r.body.text();
    const code = r.headers['x-airlock-error'];
    return { status: r.statusCode, text, code: typeof code === 'string' ? code : undefined };
  } finally {
    await dispatcher.close();
  }
}

async function decideHold(path: string, verb: 'approve' | 'deny'): Promise<void> {
  const id = await waitFor(`a hold for ${path}`, async () => {
    const r = await a.cli(['approvals', 'ls', '--json']);
    if (r.code !== 0) return undefined;
    return (JSON.parse(r.stdout) as { id: string; url: string }[]).find((x) => x.url.endsWith(path))?.id;
  });
  const r = await a.cli(['approvals', verb, id]);
  assert.equal(r.code, 0, r.stderr);
}

async function entries(): Promise<Entry[]> {
  const r = await a.cli(['sessions', 'export', session]);
  assert.equal(r.code, 0, r.stderr);
  return (JSON.parse(r.stdout) as { log: { entries: Entry[] } }).log.entries;
}

/** What the client saw, per request, in order. */
const seen: { method: string; path: string; status: number; code: string | undefined; text: string }[] = [];

before(async () => {
  a = await startAirlock({ grantPolicy: 'writer', config: { policies: { writer: POLICY }, approvals: { timeout: '60s' } } });
  ca = readFileSync(a.caPath, 'utf8');
  const send = async (method: string, path: string, body?: unknown): Promise<void> => {
    const r = await call(method, path, body);
    seen.push({ method, path, ...r });
  };
  await send('GET', '/api/v1/validate');
  await send('POST', '/api/v1/dashboard', { title: 't', widgets: [] });
  await send('GET', '/api/v1/dashboard/abc-def-001');
  await send('GET', '/api/v1/dashboard/abc-def-002');
  await send('POST', '/api/v1/monitor', { name: 'm' });
  await send('GET', '/api/v1/api_key');
  await send('DELETE', '/api/v1/monitor/7');
  const approved = send('DELETE', '/api/v1/dashboard/abc-def-003');
  await decideHold('/api/v1/dashboard/abc-def-003', 'approve');
  await approved;
  const denied = send('DELETE', '/api/v1/dashboard/abc-def-004');
  await decideHold('/api/v1/dashboard/abc-def-004', 'deny');
  await denied;
  const ls = await a.cli(['sessions', 'ls', '--json']);
  session = (JSON.parse(ls.stdout) as { id: string }[])[0]?.id ?? '';
  assert.ok(session);
});

after(async () => {
  await a?.cleanup();
});

test('the client saw 403s with a reason for each refusal (the scenario the recording must reproduce)', () => {
  assert.deepEqual(
    seen.map((s) => [s.method, s.path, s.status, s.code ?? '-']),
    [
      ['GET', '/api/v1/validate', 200, '-'],
      ['POST', '/api/v1/dashboard', 200, '-'],
      ['GET', '/api/v1/dashboard/abc-def-001', 404, '-'],
      ['GET', '/api/v1/dashboard/abc-def-002', 404, '-'],
      ['POST', '/api/v1/monitor', 403, 'POLICY_DENIED'],
      ['GET', '/api/v1/api_key', 403, 'POLICY_DENIED'],
      ['DELETE', '/api/v1/monitor/7', 403, 'POLICY_DENIED'],
      ['DELETE', '/api/v1/dashboard/abc-def-003', 200, '-'],
      ['DELETE', '/api/v1/dashboard/abc-def-004', 403, 'APPROVAL_DENIED'],
    ],
  );
});

test('refused exchanges are recorded with the status, headers and body the client got, and _airlock.code/rule/forwarded', async () => {
  const es = await entries();
  assert.equal(es.length, seen.length);
  for (const [i, e] of es.entries()) {
    const s = seen[i]!;
    assert.equal(e.response.status, s.status, `${s.method} ${s.path}: recorded status is what the client saw`);
    assert.equal(e._airlock.code, s.code, `${s.method} ${s.path}: _airlock.code`);
    assert.equal(e._airlock.forwarded, s.code === undefined, `${s.method} ${s.path}: _airlock.forwarded`);
    if (s.code) {
      assert.equal(e.response.content.text, s.text, 'the recorded body is the one the client got');
      assert.ok(e.response.headers.some((h) => h.name.toLowerCase() === 'x-airlock-error' && h.value === s.code));
      assert.ok(e._airlock.rule, 'the rule that decided is recorded');
      assert.equal(e._error, undefined, 'an answered refusal is not a failed request');
    }
  }
  const monitor = es[4]!;
  assert.match(monitor.response.content.text ?? '', /monitors are owned by the SRE team/);
  assert.deepEqual(validateHar(JSON.parse(JSON.stringify({ log: { version: '1.2', creator: { name: 'x', version: '1' }, pages: [], entries: es } }))), []);
});

test('sessions grep --status finds refusals by the status the client saw, never as status 0', async () => {
  const g403 = await a.cli(['sessions', 'grep', '--status', '403', '--json']);
  assert.equal(g403.code, 0, g403.stderr);
  const hits = g403.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { url: string; status: number });
  assert.deepEqual(
    hits.map((h) => new URL(h.url).pathname),
    ['/api/v1/monitor', '/api/v1/api_key', '/api/v1/monitor/7', '/api/v1/dashboard/abc-def-004'],
  );
  const g4xx = await a.cli(['sessions', 'grep', '--status', '4xx', '--json']);
  assert.equal(g4xx.stdout.trim().split('\n').length, 6);
  const g0 = await a.cli(['sessions', 'grep', '--status', '0']);
  assert.equal(g0.code, 1, `nothing is recorded as status 0: ${g0.stdout}`);
});

test('sessions show lists every entry with method, URL, status and decision', async () => {
  const r = await a.cli(['sessions', 'show', session]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /POST\s+https:\/\/api\.datadoghq\.com\/api\/v1\/monitor\s+403\s+denied POLICY_DENIED/);
  assert.match(r.stdout, /DELETE\s+https:\/\/api\.datadoghq\.com\/api\/v1\/dashboard\/abc-def-003\s+200\s+approved/);
  const j = JSON.parse((await a.cli(['sessions', 'show', session, '--json'])).stdout) as { entries: unknown };
  assert.ok(Array.isArray(j.entries), 'show --json carries the entries');
  assert.equal((j.entries as unknown[]).length, seen.length);
});

test('Chrome DevTools imports the HAR and shows each refusal with its status and reason body', async () => {
  const r = await a.cli(['sessions', 'export', session]);
  const har = JSON.parse(r.stdout) as object;
  const imported = await importInDevTools(har);
  assert.deepEqual(
    imported.statuses,
    seen.map((s) => s.status),
  );
  assert.deepEqual(
    imported.failed,
    seen.map(() => false),
    'no refusal shows as a failed (pending) request',
  );
  assert.ok(
    imported.contentSizes.every((n) => n > 0),
    'every row has a body size, not 0.0 kB',
  );
});

test('replay --dry-run lists every refused exchange as skipped with its reason', async () => {
  const file = join(a.dir, 'export.har');
  assert.equal((await a.cli(['sessions', 'export', session, '-o', file])).code, 0);
  const r = await a.cli(['replay', file, '--target', 'https://api.datadoghq.com', '--credential', 'dd-prod', '--dry-run', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const rows = (JSON.parse(r.stdout) as { rows: { method: string; path: string; note: string; send: boolean }[] }).rows;
  assert.deepEqual(
    rows.map((x) => x.send),
    seen.map((s) => s.code === undefined),
  );
  for (const [i, row] of rows.entries()) {
    if (seen[i]!.code) assert.match(row.note, new RegExp(`skipped: .*${seen[i]!.code}.*never reached Datadog`), row.path);
  }
});

test('replay sends only what reached Datadog, and only with the credential named by --credential', async () => {
  const file = join(a.dir, 'export.har');
  await a.cli(['sessions', 'export', session, '-o', file]);
  const without = await a.cli(['replay', file, '--target', 'https://api.datadoghq.com']);
  assert.equal(without.code, 2, 'no silent fallback: --credential is required');
  assert.match(without.stderr, /^airlock: USAGE: .*--credential/m);
  const before = a.datadog.received.length;
  const r = await a.cli(['replay', file, '--target', 'https://api.datadoghq.com', '--credential', 'dd-prod']);
  assert.equal(r.code, 0, r.stderr);
  const sent = a.datadog.received.slice(before).map((x) => `${x.method} ${x.path}`);
  assert.deepEqual(
    sent,
    seen.filter((s) => s.code === undefined).map((s) => `${s.method} ${s.path}`),
  );
  assert.match(r.stdout, /credential dd-prod/, 'the table names the vault entry used');
});

test('policy suggest allows only what was forwarded, turns an approved hold into approve, comments refusals, and shadows nothing', async () => {
  const r = await a.cli(['policy', 'suggest', session, '--name', 'suggested']);
  assert.equal(r.code, 0, r.stderr);
  const doc = parse(r.stdout) as { policies: { suggested: { default: string; rules: { match: string; action: string }[] } } };
  const rules = doc.policies.suggested.rules;
  assert.deepEqual(rules, [
    { match: 'DELETE /api/v1/dashboard/*', action: 'approve' },
    { match: 'GET /api/v1/dashboard/*', action: 'allow' },
    { match: 'GET /api/v1/validate', action: 'allow' },
    { match: 'POST /api/v1/dashboard', action: 'allow' },
  ]);
  assert.match(r.stdout, /^# 9 exchanges: 5 forwarded \(1 after approval\), 4 refused; 4 rules$/m);
  assert.match(r.stdout, /^# refused \(no rule\): POST \/api\/v1\/monitor 403 POLICY_DENIED/m);
  assert.doesNotMatch(r.stdout, /api_key.*allow/);
  // Checked with `airlock policy test` under a config that uses the suggestion.
  const cfg = parse(readFileSync(a.configPath, 'utf8')) as Record<string, unknown> & { identity: { grants: Record<string, unknown>[] } };
  cfg['policies'] = doc.policies;
  cfg.identity.grants[0]!['policy'] = 'suggested';
  const path = join(a.dir, 'suggested.yaml');
  writeFileSync(path, stringify(cfg));
  const expect: [string, string][] = [
    ['GET /api/v1/validate', 'allow'],
    ['GET /api/v1/dashboard/zzz-yyy-999', 'allow'],
    ['POST /api/v1/dashboard', 'allow'],
    ['DELETE /api/v1/dashboard/abc-def-003', 'approve'],
    ['POST /api/v1/monitor', 'deny'],
    ['GET /api/v1/api_key', 'deny'],
    ['DELETE /api/v1/monitor/7', 'deny'],
  ];
  for (const [req, action] of expect) {
    const t = JSON.parse((await runCli(['policy', 'test', '--grant', 'dashboards-bot', req, '--json', '--config', path])).stdout) as { action: string };
    assert.equal(t.action, action, req);
  }
  // No rule is shadowed: each rule decides at least the request it was made from.
  for (const [i, rule] of rules.entries()) {
    const req = rule.match.replace('*', 'abc-def-003');
    const t = JSON.parse((await runCli(['policy', 'test', '--grant', 'dashboards-bot', req, '--json', '--config', path])).stdout) as {
      rule: { rule: unknown };
    };
    assert.equal(t.rule.rule, i + 1, `${rule.match} is decided by its own rule (numbered from 1)`);
  }
});

test('sessions ls with filters that exclude every session says so, not "no sessions yet"', async () => {
  const r = await a.cli(['sessions', 'ls', '--claim', 'repository_id=nobody']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'no sessions match these filters');
});

test('piping export and grep --json into head ends quietly with status 0 (no EPIPE stack)', async () => {
  // A session larger than a pipe's buffer, so the writer is still writing when head leaves.
  const big = { title: 'x'.repeat(300_000), widgets: [] };
  const token = await a.issuer.mint({ run_id: 'truth-pipe' });
  const dispatcher = new ProxyAgent({ uri: a.proxyUrl, token: `Bearer ${token}`, requestTls: { ca } });
  for (let i = 0; i < 2; i++) {
    const r = await request('https://api.datadoghq.com/api/v1/dashboard', {
      method: 'POST',
      dispatcher,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(big),
    });
    await r.body.text();
  }
  await dispatcher.close();
  const ls = JSON.parse((await a.cli(['sessions', 'ls', '--json'])).stdout) as { id: string; claims: Record<string, unknown> }[];
  const id = ls.find((s) => s.claims['run_id'] === 'truth-pipe')!.id;
  const cli = `'${process.execPath}' '${CLI}'`;
  for (const cmd of [
    `${cli} sessions export ${id} --config '${a.configPath}' | head -c 100`,
    `${cli} sessions grep --json --body xxxx --config '${a.configPath}' | head -1`,
  ]) {
    const r = await run('bash', ['-c', `set -o pipefail; ${cmd} >/dev/null`]);
    assert.equal(r.code, 0, `${cmd}: ${r.stderr}`);
    assert.equal(r.stderr, '', `no stack trace: ${cmd}`);
  }
});

test('sessions export -o F writes F.sig beside it; verify F passes, and verify --sig S reads a signature kept elsewhere', async () => {
  assert.equal((await a.cli(['sessions', 'close', session])).code, 0);
  const file = join(a.dir, 'closed.har');
  const r = await a.cli(['sessions', 'export', session, '-o', file]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`wrote ${file} and ${file}\\.sig`));
  const ok = await a.cli(['sessions', 'verify', file]);
  assert.equal(ok.code, 0, ok.stdout);
  const elsewhere = join(a.dir, 'kept.sig');
  renameSync(`${file}.sig`, elsewhere);
  const missing = await a.cli(['sessions', 'verify', file]);
  assert.equal(missing.code, 1);
  assert.match(missing.stdout, /closed\.har\.sig is missing \(pass --sig FILE/);
  const withSig = await a.cli(['sessions', 'verify', file, '--sig', elsewhere]);
  assert.equal(withSig.code, 0, withSig.stdout);
  assert.match(withSig.stdout, /verdict: +OK/);
});

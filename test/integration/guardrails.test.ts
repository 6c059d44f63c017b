// Policies, approval holds, the webhook and masking through a real `airlock serve`, real TLS,
// a real client (undici), the real CLI over the control socket, and OS users for the group check.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { readFileSync, chmodSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { ProxyAgent, request } from 'undici';
import { parse } from 'yaml';
import { startAirlock, run, CLI, type Airlock } from '../fixtures/airlock-process.js';
import { compilePolicy } from '../../appliance/policy/compile-policy.js';
import { decide } from '../../appliance/policy/decide.js';
import { policySchema } from '../../appliance/config/policy-schema.js';
import { skipOutsideCi } from '../fixtures/skip-outside-ci.js';
import { waitFor } from '../fixtures/wait-for.js';

const POLICY = {
  default: 'deny',
  rateLimit: { perSecond: 1, burst: 40 },
  rules: [
    { match: 'GET *', action: 'allow' },
    { match: 'POST /api/v1/dashboard', action: 'allow' },
    { match: 'PUT /api/v1/dashboard/*', action: 'allow' },
    { match: 'DELETE /api/v1/dashboard/rpt-*', action: 'deny', mode: 'report', reason: 'trying out a delete ban' },
    { match: 'DELETE /api/v1/dashboard/*', action: 'approve' },
    { match: 'PUT /api/v1/monitor/*', action: 'deny', reason: 'no monitor update may silence it', when: [{ path: '$.options.silenced', exists: true }] },
    { match: 'PUT /api/v1/monitor/*', action: 'allow' },
    { match: '* /api/v1/monitor/**', action: 'deny', reason: 'monitors are owned by the SRE team' },
  ],
};

const isRoot = process.getuid?.() === 0;
const tag = randomBytes(3).toString('hex');
const GROUP = `alkap${tag}`;
const INSIDER = `alkin${tag}`;
const OUTSIDER = `alkout${tag}`;
let usersMade = false;

let a: Airlock;
let ca: string;
let hookServer: http.Server;
let hookPort: number;
const hooks: Record<string, unknown>[] = [];
const sessionOf = new Map<string, string>();

function startHook(port = 0): Promise<void> {
  hookServer = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      hooks.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>);
      res.end('ok');
    });
  });
  return new Promise((r) =>
    hookServer.listen(port, '127.0.0.1', () => {
      hookPort = (hookServer.address() as AddressInfo).port;
      r();
    }),
  );
}
const stopHook = (): Promise<void> =>
  new Promise((r) => {
    hookServer.close(() => r());
    hookServer.closeAllConnections();
  });

before(async () => {
  if (isRoot) {
    execFileSync('groupadd', [GROUP]);
    execFileSync('useradd', ['-M', '-N', '-s', '/usr/sbin/nologin', '-G', GROUP, INSIDER]);
    execFileSync('useradd', ['-M', '-N', '-s', '/usr/sbin/nologin', OUTSIDER]);
    usersMade = true;
  }
  await startHook();
  a = await startAirlock({
    grantPolicy: 'dashboards-writer',
    config: {
      policies: { 'dashboards-writer': POLICY },
      // Long enough that CLI round trips on a loaded CI machine never race it; the timeout test has its own instance.
      approvals: { timeout: '60s', webhook: `http://127.0.0.1:${hookPort}/hook`, ...(isRoot ? { group: GROUP } : {}) },
      masking: {
        rules: [
          { name: 'api-key', jsonPath: '$.data[*].attributes.key' },
          { name: 'email', regex: '[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,}' },
        ],
      },
    },
  });
  ca = readFileSync(a.caPath, 'utf8');
  if (isRoot) {
    // Other users must reach the socket through the directories and read the config.
    chmodSync(a.dir, 0o711);
    chmodSync(a.stateDir, 0o711);
    chmodSync(a.configPath, 0o644);
  }
});

after(async () => {
  await a?.cleanup();
  await stopHook().catch(() => undefined);
  if (usersMade) {
    for (const u of [INSIDER, OUTSIDER]) execFileSync('userdel', [u]);
    execFileSync('groupdel', [GROUP]);
  }
});

async function call(run_id: string, method: string, path: string, body?: unknown, host = 'api.datadoghq.com') {
  const token = await a.issuer.mint({ run_id });
  const dispatcher = new ProxyAgent({ uri: a.proxyUrl, token: `Bearer ${token}`, requestTls: { ca }, headersTimeout: 30_000, bodyTimeout: 30_000 });
  try {
    const r = await request(`https://${host}${path}`, {
      method: method as 'GET',
      dispatcher,
      headers: { 'content-type': 'application/json', 'accept-encoding': 'gzip, br' },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await r.body.text();
    return { status: r.statusCode, headers: r.headers, text };
  } finally {
    await dispatcher.close();
  }
}

async function sessionId(run_id: string): Promise<string> {
  const cached = sessionOf.get(run_id);
  if (cached) return cached;
  const r = await a.cli(['sessions', 'ls', '--json']);
  const list = JSON.parse(r.stdout) as { id: string; key: string; claims: Record<string, unknown> }[];
  const s = list.find((x) => x.claims['run_id'] === run_id);
  assert.ok(s, `a session for run ${run_id}`);
  sessionOf.set(run_id, s.id);
  return s.id;
}

interface Entry {
  request: { method: string; url: string };
  response: { status: number; headers: { name: string; value: string }[]; content: { text?: string } };
  _error?: string;
  _airlock: Record<string, unknown>;
}
async function entries(run_id: string): Promise<Entry[]> {
  const r = await a.cli(['sessions', 'export', await sessionId(run_id)]);
  assert.equal(r.code, 0, r.stderr);
  return (JSON.parse(r.stdout) as { log: { entries: Entry[] } }).log.entries;
}

async function pendingHold(path: string): Promise<string> {
  return waitFor(`a hold for ${path}`, async () => {
    const r = await a.cli(['approvals', 'ls', '--json']);
    if (r.code !== 0) return undefined;
    const p = (JSON.parse(r.stdout) as { id: string; url: string }[]).find((x) => x.url.endsWith(path));
    return p?.id;
  });
}

test('allowed requests are forwarded; a denied one is answered 403 POLICY_DENIED with the reason, never reaches Datadog, and is recorded with its rule', async () => {
  const ok = await call('p1', 'POST', '/api/v1/dashboard', { title: 't', widgets: [] });
  assert.equal(ok.status, 200, ok.text);
  const before = a.datadog.received.length;
  const no = await call('p1', 'POST', '/api/v1/monitor', { name: 'm' });
  assert.equal(no.status, 403);
  assert.equal(no.headers['x-airlock-error'], 'POLICY_DENIED');
  assert.match(no.text, /monitors are owned by the SRE team/);
  const dflt = await call('p1', 'POST', '/api/v1/series', {});
  assert.equal(dflt.headers['x-airlock-error'], 'POLICY_DENIED', 'the default denies');
  assert.equal(a.datadog.received.length, before, 'nothing denied reached Datadog');
  const e = (await entries('p1')).find((x) => x.request.url.endsWith('/api/v1/monitor'));
  assert.equal(e?._airlock['decision'], 'denied');
  assert.deepEqual(e?._airlock['rule'], {
    policy: 'dashboards-writer',
    rule: 8,
    match: '* /api/v1/monitor/**',
    action: 'deny',
    reason: 'monitors are owned by the SRE team',
  });
});

test('key-management endpoints are denied even under GET *, including percent-encoded spellings', async () => {
  const before = a.datadog.received.length;
  for (const p of ['/api/v2/api_keys', '/api/v1/application_key/x', '/api/v1/%61pi_key']) {
    const r = await call('p2', 'GET', p);
    assert.equal(r.headers['x-airlock-error'], 'POLICY_DENIED', p);
  }
  assert.equal(a.datadog.received.length, before);
});

test('a when: condition on the JSON body denies a monitor update that silences it and forwards one that does not', async () => {
  const before = a.datadog.received.length;
  const silenced = await call('p3', 'PUT', '/api/v1/monitor/42', { options: { silenced: { '*': null } } });
  assert.equal(silenced.headers['x-airlock-error'], 'POLICY_DENIED');
  assert.match(silenced.text, /silence/);
  assert.equal(a.datadog.received.length, before);
  const plain = await call('p3', 'PUT', '/api/v1/monitor/42', { options: { thresholds: { critical: 1 } } });
  assert.equal(plain.headers['x-airlock-error'], undefined);
  const got = a.datadog.received.at(-1);
  assert.equal(got?.path, '/api/v1/monitor/42');
  assert.deepEqual(JSON.parse(got?.body.toString() ?? '{}'), { options: { thresholds: { critical: 1 } } }, 'the buffered body was replayed upstream intact');
});

test('a report-mode rule forwards what it would deny and records it as report-deny with the rule', async () => {
  const r = await call('p4', 'DELETE', '/api/v1/dashboard/rpt-1');
  assert.equal(r.status, 200);
  assert.equal(a.datadog.received.at(-1)?.path, '/api/v1/dashboard/rpt-1');
  const e = (await entries('p4')).at(-1);
  assert.equal(e?._airlock['decision'], 'report-deny');
  assert.equal((e?._airlock['rule'] as { rule: number }).rule, 4, 'rules are numbered from 1');
  assert.ok(
    a.logs.some((l) => l.includes('report mode')),
    'logged',
  );
});

test('the rate limit answers 429 RATE_LIMITED with Retry-After once a session spends its burst', async () => {
  const statuses: number[] = [];
  let retryAfter: unknown;
  for (let i = 0; i < 45; i++) {
    const r = await call('p5', 'GET', '/api/v1/validate');
    statuses.push(r.status);
    if (r.status === 429) retryAfter = r.headers['retry-after'];
  }
  assert.ok(
    statuses.slice(0, 40).every((s) => s === 200),
    'the burst passes',
  );
  assert.ok(statuses.includes(429), 'then 429');
  assert.match(String(retryAfter), /^\d+$/);
  const other = await call('p5-other', 'GET', '/api/v1/validate');
  assert.equal(other.status, 200, 'another session has its own bucket');
});

test('a DELETE under an approve rule waits, is listed, and is forwarded once approved; the HAR and the webhook say who approved', async () => {
  const before = a.datadog.received.length;
  const pending = call('a1', 'DELETE', '/api/v1/dashboard/abc-def-001');
  const id = await pendingHold('/api/v1/dashboard/abc-def-001');
  assert.equal(a.datadog.received.length, before, 'nothing went upstream while held');
  const ls = await a.cli(['approvals', 'ls']);
  assert.match(ls.stdout, new RegExp(`${id}.*DELETE https://api.datadoghq.com/api/v1/dashboard/abc-def-001`));
  const who = isRoot ? INSIDER : (await import('node:os')).userInfo().username;
  const decided = isRoot
    ? await run('runuser', ['-u', INSIDER, '--', process.execPath, CLI, 'approvals', 'approve', id, '--note', 'ok by me', '--config', a.configPath])
    : await a.cli(['approvals', 'approve', id, '--note', 'ok by me']);
  assert.equal(decided.code, 0, decided.stderr);
  const r = await pending;
  assert.equal(r.status, 200, r.text);
  assert.equal(a.datadog.received.at(-1)?.method, 'DELETE');
  const e = (await entries('a1')).at(-1);
  assert.equal(e?._airlock['decision'], 'approved');
  const approval = e?._airlock['approval'] as { by: string; at: string; note: string };
  assert.equal(approval.by, who);
  assert.equal(approval.note, 'ok by me');
  assert.ok(!Number.isNaN(Date.parse(approval.at)));
  const events = await waitFor('webhook events', () => {
    const mine = hooks.filter((h) => (h['hold'] as { id: string }).id === id).map((h) => h['event']);
    return mine.length >= 2 ? mine : undefined;
  });
  assert.deepEqual(events, ['held', 'approved']);
  const held = hooks.find((h) => h['event'] === 'held' && (h['hold'] as { id: string }).id === id);
  assert.match(String(held?.['text']), /airlock approvals approve/);
});

test('a held request that is denied gets 403 APPROVAL_DENIED with the reason; the webhook, down at the time, still gets the event by retrying', async () => {
  await stopHook();
  const before = a.datadog.received.length;
  const pending = call('a2', 'DELETE', '/api/v1/dashboard/abc-def-002');
  const id = await pendingHold('/api/v1/dashboard/abc-def-002');
  const d = await a.cli(['approvals', 'deny', id, '--reason', 'keep it']);
  assert.equal(d.code, 0, d.stderr);
  const r = await pending;
  assert.equal(r.status, 403);
  assert.equal(r.headers['x-airlock-error'], 'APPROVAL_DENIED');
  assert.match(r.text, /keep it/);
  assert.equal(a.datadog.received.length, before);
  assert.equal((await entries('a2')).at(-1)?._airlock['decision'], 'approval-denied');
  await waitFor('a logged webhook failure', () => (a.logs.some((l) => l.includes('approval webhook failed')) ? true : undefined));
  await startHook(hookPort);
  const ev = await waitFor('the retried webhook', () => hooks.find((h) => h['event'] === 'denied' && (h['hold'] as { id: string }).id === id));
  assert.match(String(ev['text']), /denied/);
});

test('a held request nobody decides answers 403 APPROVAL_TIMEOUT after approvals.timeout', async () => {
  const b = await startAirlock({
    grantPolicy: 'dashboards-writer',
    config: { policies: { 'dashboards-writer': POLICY }, approvals: { timeout: '3s' } },
  });
  try {
    const token = await b.issuer.mint({ run_id: 'a3' });
    const dispatcher = new ProxyAgent({
      uri: b.proxyUrl,
      token: `Bearer ${token}`,
      requestTls: { ca: readFileSync(b.caPath, 'utf8') },
      headersTimeout: 30_000,
    });
    const started = Date.now();
    const before = b.datadog.received.length;
    try {
      const r = await request('https://api.datadoghq.com/api/v1/dashboard/abc-def-003', { method: 'DELETE', dispatcher });
      await r.body.text();
      assert.equal(r.statusCode, 403);
      assert.equal(r.headers['x-airlock-error'], 'APPROVAL_TIMEOUT');
    } finally {
      await dispatcher.close();
    }
    assert.ok(Date.now() - started >= 2_500, 'held for the timeout');
    assert.equal(b.datadog.received.length, before, 'nothing went upstream');
    const list = JSON.parse((await b.cli(['sessions', 'ls', '--json'])).stdout) as { id: string }[];
    const har = JSON.parse((await b.cli(['sessions', 'export', list[0]!.id])).stdout) as { log: { entries: Entry[] } };
    assert.equal(har.log.entries.at(-1)?._airlock['decision'], 'approval-timeout');
  } finally {
    await b.cleanup();
  }
});

test('a user outside approvals.group cannot list or approve holds; a member can list them', async (t) => {
  if (skipOutsideCi(t, !isRoot && 'needs root to create a group and two users (useradd/groupadd)')) return;
  const sock = join(a.stateDir, 'control.sock');
  const mode = execFileSync('stat', ['-c', '%a %G', sock]).toString().trim();
  assert.equal(mode, `660 ${GROUP}`);
  const pending = call('a4', 'DELETE', '/api/v1/dashboard/abc-def-004');
  const id = await pendingHold('/api/v1/dashboard/abc-def-004');
  const out = await run('runuser', ['-u', OUTSIDER, '--', process.execPath, CLI, 'approvals', 'approve', id, '--config', a.configPath]);
  assert.equal(out.code, 1);
  assert.match(out.stderr, /APPROVAL_FORBIDDEN/);
  const ins = await run('runuser', ['-u', INSIDER, '--', process.execPath, CLI, 'approvals', 'ls', '--json', '--config', a.configPath]);
  assert.equal(ins.code, 0, ins.stderr);
  assert.ok((JSON.parse(ins.stdout) as { id: string }[]).some((p) => p.id === id));
  await a.cli(['approvals', 'deny', id]);
  assert.equal((await pending).headers['x-airlock-error'], 'APPROVAL_DENIED');
});

test('a vaulted key echoed back in JSON, in a header, gzip- and brotli-compressed never reaches the agent or the HAR', async () => {
  for (const p of ['/echo', '/echo-gzip', '/echo-br']) {
    const r = await call('m1', 'GET', p);
    assert.equal(r.status, 200, p);
    assert.ok(!r.text.includes(a.apiKey), `${p}: body masked`);
    assert.equal((JSON.parse(r.text) as { you_sent: string }).you_sent, '[masked:credential]', p);
    assert.equal(r.headers['content-encoding'], undefined, `${p}: sent identity-encoded`);
    assert.equal(Number(r.headers['content-length']), Buffer.byteLength(r.text), `${p}: Content-Length matches`);
    if (p === '/echo') assert.equal(r.headers['x-echo-key'], '[masked:credential]');
  }
  const es = await entries('m1');
  const text = JSON.stringify(es);
  assert.ok(!text.includes(a.apiKey));
  assert.ok(es.every((e) => (e._airlock['masked'] as string[]).includes('credential')));
  assert.match(es[0]?.response.content.text ?? '', /\[masked:credential\]/, 'the HAR holds what the agent saw');
});

test('a JSON-path rule and a regex rule mask with their names; a JSON-path rule on a body beyond maxBodyBytes fails closed with 502', async () => {
  const r = await call('m2', 'GET', '/api/v2/things');
  const body = JSON.parse(r.text) as { data: { attributes: { key: string; name: string } }[] };
  assert.deepEqual(
    body.data.map((d) => d.attributes.key),
    ['[masked:api-key]', '[masked:api-key]'],
  );
  assert.equal(body.data[0]?.attributes.name, 'one');
  const dash = await call('m2', 'POST', '/api/v1/dashboard', { title: 'x', widgets: [] });
  assert.equal((JSON.parse(dash.text) as { author_handle: string }).author_handle, '[masked:email]');
  const es = await entries('m2');
  assert.deepEqual(es[0]?._airlock['masked'], ['api-key']);
  const big = await call('m2', 'GET', '/bigjson?bytes=1500000');
  assert.equal(big.status, 502);
  assert.equal(big.headers['x-airlock-error'], 'MASKING_UNAVAILABLE');
});

test('policy suggest turns a recorded session into rules that allow it and nothing else; policy test names the deciding rule', async () => {
  await call('s1', 'GET', '/api/v1/validate');
  await call('s1', 'POST', '/api/v1/dashboard', { title: 'x', widgets: [] });
  await call('s1', 'PUT', '/api/v1/dashboard/abc-def-001', { title: 'y' });
  const r = await a.cli(['policy', 'suggest', await sessionId('s1'), '--name', 'from-audit']);
  assert.equal(r.code, 0, r.stderr);
  const doc = parse(r.stdout) as { policies: Record<string, unknown> };
  const p = compilePolicy('from-audit', policySchema.parse(doc.policies['from-audit']));
  for (const e of await entries('s1')) {
    const u = new URL(e.request.url);
    assert.equal(decide({ method: e.request.method, host: u.hostname, path: u.pathname }, p).action, 'allow', e.request.url);
  }
  for (const [m, path] of [
    ['DELETE', '/api/v1/dashboard/abc-def-001'],
    ['POST', '/api/v1/monitor'],
    ['GET', '/api/v1/dashboard'],
  ] as const) {
    assert.equal(decide({ method: m, host: 'api.datadoghq.com', path }, p).action, 'deny', `${m} ${path}`);
  }
  const t = await a.cli(['policy', 'test', '--grant', 'dashboards-bot', 'DELETE /api/v1/dashboard/abc']);
  assert.equal(t.code, 0, t.stderr);
  assert.match(t.stdout, /approve by rule 5 \(DELETE \/api\/v1\/dashboard\/\*\)/);
});

test('after a crash a pending hold is lost: the client gets a connection error and the HAR records it as held-then-aborted', async () => {
  const pending = call('z1', 'DELETE', '/api/v1/dashboard/abc-def-009').then(
    () => 'answered',
    (err: unknown) => `error: ${(err as Error).message}`,
  );
  await pendingHold('/api/v1/dashboard/abc-def-009');
  const id = await sessionId('z1');
  await a.stop('SIGKILL');
  assert.match(await pending, /^error/);
  await a.start();
  const har = join(a.stateDir, 'sessions', `${id}.har`);
  await waitFor('the recovered HAR', () => (existsSync(har) ? true : undefined));
  const es = (JSON.parse(readFileSync(har, 'utf8')) as { log: { entries: Entry[] } }).log.entries;
  const e = es.find((x) => x.request.url.endsWith('/abc-def-009'));
  assert.equal(e?.response.status, 0);
  assert.match(e?._error ?? '', /^held-then-aborted/);
});

// The audit trail through a real `airlock serve`: find sessions (ls filters, grep), prove a HAR
// unaltered (signature + hash chain, each tampering named), and replay a session to a sandbox.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import { startAirlock, curlVia, type Airlock } from '../fixtures/airlock-process.js';

let a: Airlock;
/** run_id -> session id */
const ids = new Map<string, string>();

async function send(runId: string, method: string, path: string, body?: string, claims: Record<string, unknown> = {}): Promise<number> {
  const token = await a.issuer.mint({ run_id: runId, run_attempt: '1', ...claims });
  const args = ['-o', '/dev/null', '-w', '%{http_code}', '-X', method];
  if (body !== undefined) args.push('-H', 'content-type: application/json', '--data-binary', body);
  const r = await curlVia(a, token, `https://api.datadoghq.com${path}`, args);
  assert.equal(r.code, 0, r.stderr);
  return Number(r.stdout);
}

async function sessionOf(runId: string): Promise<string> {
  const r = await a.cli(['sessions', 'ls', '--json', '--claim', `run_id=${runId}`]);
  assert.equal(r.code, 0, r.stderr);
  const list = JSON.parse(r.stdout) as { id: string }[];
  assert.equal(list.length, 1, `one session for run ${runId}`);
  return list[0]!.id;
}

function harPath(id: string): string {
  return join(a.stateDir, 'sessions', `${id}.har`);
}

before(async () => {
  a = await startAirlock();
  // run 100: four exchanges, closed. run 200: one failing exchange, closed. run 300: left open.
  assert.equal(await send('100', 'POST', '/api/v1/dashboard', JSON.stringify({ title: 'audit one', layout_type: 'ordered', widgets: [] })), 200);
  assert.equal(await send('100', 'GET', '/api/v1/validate'), 200);
  assert.equal(await send('100', 'POST', '/api/v1/dashboard', JSON.stringify({ title: 'audit two', layout_type: 'ordered', widgets: [] })), 200);
  assert.equal(await send('100', 'GET', '/api/v2/nothing-here'), 404);
  assert.equal(await send('200', 'GET', '/api/v1/missing', undefined, { sub: 'repo:acme/other:ref:refs/heads/main' }), 404);
  assert.equal(await send('300', 'GET', '/api/v1/validate'), 200);
  for (const runId of ['100', '200', '300']) ids.set(runId, await sessionOf(runId));
  for (const runId of ['100', '200']) {
    const r = await a.cli(['sessions', 'close', ids.get(runId)!]);
    assert.equal(r.code, 0, r.stderr);
  }
});
after(async () => {
  await a?.cleanup();
});

test('sessions ls filters by claim, sub, grant, issuer, open/closed and time window', async () => {
  const ls = async (...args: string[]): Promise<string[]> => {
    const r = await a.cli(['sessions', 'ls', '--json', ...args]);
    assert.equal(r.code, 0, r.stderr);
    return (JSON.parse(r.stdout) as { id: string }[]).map((s) => s.id).sort();
  };
  const all = [...ids.values()].sort();
  assert.deepEqual(await ls(), all);
  assert.deepEqual(await ls('--claim', 'run_id=200'), [ids.get('200')]);
  assert.deepEqual(await ls('--claim', 'run_id=200', '--claim', 'run_attempt=2'), []);
  assert.deepEqual(await ls('--sub', 'repo:acme/other:ref:refs/heads/main'), [ids.get('200')]);
  assert.deepEqual(await ls('--grant', 'dashboards-bot'), all);
  assert.deepEqual(await ls('--grant', 'nobody'), []);
  assert.deepEqual(await ls('--issuer', 'github'), all);
  assert.deepEqual(await ls('--open'), [ids.get('300')]);
  assert.deepEqual(await ls('--closed'), [ids.get('100'), ids.get('200')].sort());
  assert.deepEqual(await ls('--since', '1h'), all);
  assert.deepEqual(await ls('--until', '1h'), []);
  assert.deepEqual(await ls('--since', new Date(Date.now() + 60_000).toISOString()), []);
  const table = await a.cli(['sessions', 'ls', '--limit', '1']);
  assert.equal(table.stdout.split('\n').filter((l) => l.includes(ids.get('300')!)).length, 1, 'the newest session is the row shown');
  assert.match(table.stdout, /\(the newest 1 of 3; --limit N or --limit 0 for all/);
  const bad = await a.cli(['sessions', 'ls', '--since', 'yesterday-ish']);
  assert.equal(bad.code, 2, 'a bad time is a usage error');
  assert.match(bad.stderr, /BAD_FILTER/);
});

test('sessions grep streams matching exchanges across closed and open sessions as JSON lines', async () => {
  const grep = async (...args: string[]): Promise<{ session: string; entry: number; method: string; status: number; url: string }[]> => {
    const r = await a.cli(['sessions', 'grep', '--json', ...args]);
    return r.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { session: string; entry: number; method: string; status: number; url: string });
  };
  const notFound = await grep('--status', '4xx');
  assert.deepEqual(
    notFound.map((h) => [h.session, h.status]).sort(),
    [
      [ids.get('100'), 404],
      [ids.get('200'), 404],
    ].sort(),
  );
  const posts = await grep('--method', 'POST', '--path', '/api/v1/*');
  assert.deepEqual(
    posts.map((h) => h.entry),
    [1, 3],
  );
  assert.ok(posts.every((h) => h.session === ids.get('100') && h.method === 'POST'));
  const body = await grep('--body', 'audit t[w]o');
  assert.deepEqual(
    body.map((h) => [h.session, h.entry]),
    [[ids.get('100'), 3]],
  );
  const open = await grep('--session', ids.get('300')!, '--path', '/api/**');
  assert.deepEqual(
    open.map((h) => [h.entry, h.status]),
    [[1, 200]],
    'an open session is searched from its journal',
  );
  const none = await a.cli(['sessions', 'grep', '--status', '503']);
  assert.equal(none.code, 1, 'no match exits 1');
});

test('signing-key public prints an Ed25519 public JWK with no private part; signing.key is 0600', async () => {
  const r = await a.cli(['signing-key', 'public']);
  assert.equal(r.code, 0, r.stderr);
  const jwk = JSON.parse(r.stdout) as Record<string, unknown>;
  assert.equal(jwk['kty'], 'OKP');
  assert.equal(jwk['crv'], 'Ed25519');
  assert.equal(jwk['d'], undefined);
  assert.equal(statSync(join(a.stateDir, 'signing.key')).mode & 0o777, 0o600);
  assert.ok(existsSync(`${harPath(ids.get('100')!)}.sig`), 'the closed session has a .sig');
});

function tampered(name: string, bytes: Buffer | string): string {
  const file = join(a.dir, `${name}.har`);
  writeFileSync(file, bytes);
  writeFileSync(`${file}.sig`, readFileSync(`${harPath(ids.get('100')!)}.sig`));
  return file;
}

async function verify(
  file: string,
  ...extra: string[]
): Promise<{
  code: number;
  out: { ok: boolean; signature: { ok: boolean; detail: string }; chain: { ok: boolean; problem?: { code: string; entry?: number; message: string } } };
}> {
  const r = await a.cli(['sessions', 'verify', file, '--json', ...extra]);
  return { code: r.code, out: JSON.parse(r.stdout) as Awaited<ReturnType<typeof verify>>['out'] };
}

test('an untouched HAR verifies: signature with the appliance key and with --public-key, chain intact', async () => {
  const file = harPath(ids.get('100')!);
  const r = await a.cli(['sessions', 'verify', file]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /verdict:\s+OK/);
  assert.match(r.stdout, /intact \(4 entries\)/);
  const pub = join(a.dir, 'public.jwk');
  writeFileSync(pub, (await a.cli(['signing-key', 'public'])).stdout);
  const withKey = await verify(file, '--public-key', pub);
  assert.equal(withKey.code, 0);
  assert.equal(withKey.out.signature.ok, true);
});

test('a HAR checked against another key fails on its signature and exits 1', async () => {
  const other = generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' });
  const pub = join(a.dir, 'other.jwk');
  writeFileSync(pub, JSON.stringify(other));
  const r = await verify(harPath(ids.get('100')!), '--public-key', pub);
  assert.equal(r.code, 1);
  assert.equal(r.out.signature.ok, false);
  assert.equal(r.out.chain.ok, true, 'the chain itself is intact');
});

test('a HAR with one byte flipped in a body fails verification naming entry 3', async () => {
  const text = readFileSync(harPath(ids.get('100')!), 'utf8');
  const lines = text.split('\n');
  // Line 0 is the header; entry 3 is line 3. Flip one letter of its recorded request body.
  const at = lines[3]!.indexOf('audit two');
  assert.ok(at > 0, 'entry 3 holds the body');
  lines[3] = `${lines[3]!.slice(0, at)}audit twX${lines[3]!.slice(at + 'audit two'.length)}`;
  const r = await verify(tampered('flipped', lines.join('\n')));
  assert.equal(r.code, 1);
  assert.equal(r.out.signature.ok, false);
  assert.equal(r.out.chain.problem?.code, 'ENTRY_ALTERED');
  assert.equal(r.out.chain.problem?.entry, 3);
});

function edited(fn: (entries: unknown[]) => unknown[]): string {
  const har = JSON.parse(readFileSync(harPath(ids.get('100')!), 'utf8')) as { log: { entries: unknown[] } };
  har.log.entries = fn(har.log.entries);
  return JSON.stringify(har, null, 2);
}

test('a HAR with entry 2 deleted fails verification naming entry 2 as missing', async () => {
  const r = await verify(
    tampered(
      'deleted',
      edited((e) => e.filter((_, i) => i !== 1)),
    ),
  );
  assert.equal(r.code, 1);
  assert.equal(r.out.chain.problem?.code, 'ENTRY_MISSING');
  assert.equal(r.out.chain.problem?.entry, 2);
});

test('a HAR with entries 2 and 3 swapped fails verification naming entry 2 as out of order', async () => {
  const r = await verify(
    tampered(
      'swapped',
      edited((e) => [e[0], e[2], e[1], e[3]]),
    ),
  );
  assert.equal(r.code, 1);
  assert.equal(r.out.chain.problem?.code, 'ENTRY_REORDERED');
  assert.equal(r.out.chain.problem?.entry, 2);
});

test('a HAR with its last entry dropped (still valid JSON) fails naming entry 4 as missing', async () => {
  const r = await verify(
    tampered(
      'short',
      edited((e) => e.slice(0, 3)),
    ),
  );
  assert.equal(r.out.chain.problem?.code, 'ENTRY_MISSING');
  assert.equal(r.out.chain.problem?.entry, 4);
});

test('a truncated HAR fails verification naming the first entry that is cut off', async () => {
  const bytes = readFileSync(harPath(ids.get('100')!));
  const text = bytes.toString('utf8');
  const lines = text.split('\n');
  // Cut in the middle of entry 3's line: entries 1 and 2 survive whole.
  const cut = Buffer.byteLength(lines.slice(0, 3).join('\n')) + 1 + Math.floor(Buffer.byteLength(lines[3]!) / 2);
  const r = await verify(tampered('truncated', bytes.subarray(0, cut)));
  assert.equal(r.code, 1);
  assert.equal(r.out.chain.problem?.code, 'FILE_TRUNCATED');
  assert.equal(r.out.chain.problem?.entry, 3);
});

test('replay re-issues the session against the sandbox with the vaulted key, never a placeholder, as a new linked session', async () => {
  const before = a.datadog.received.length;
  const r = await a.cli(['replay', harPath(ids.get('100')!), '--target', 'https://api.datadoghq.com', '--credential', 'dd-prod', '--strict']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const got = a.datadog.received.slice(before);
  assert.deepEqual(
    got.map((g) => `${g.method} ${g.path}`),
    ['POST /api/v1/dashboard', 'GET /api/v1/validate', 'POST /api/v1/dashboard', 'GET /api/v2/nothing-here'],
  );
  for (const g of got) {
    assert.equal(g.headers['dd-api-key'], a.apiKey, 'the vaulted key was injected');
    assert.ok(!g.rawHeaders.join('\n').includes('[redacted:'), 'no placeholder was sent');
  }
  assert.equal((JSON.parse(got[0]!.body.toString('utf8')) as { title: unknown }).title, 'audit one');
  const rows = r.stdout.split('\n').filter((l) => /^(GET|POST)\s/.test(l));
  assert.equal(rows.length, 4);
  assert.match(rows[0]!, /^POST\s+\/api\/v1\/dashboard\s+200\s+200\s+yes/);
  assert.match(rows[3]!, /^GET\s+\/api\/v2\/nothing-here\s+404\s+404\s+yes/);
  const id = /recorded as session (\S+)/.exec(r.stdout)?.[1];
  assert.ok(id, r.stdout);
  const har = JSON.parse(readFileSync(harPath(id), 'utf8')) as {
    log: { _airlock: Record<string, unknown>; entries: { request: { headers: { name: string; value: string }[] } }[] };
  };
  assert.equal(har.log._airlock['replayOf'], ids.get('100'));
  assert.equal(har.log._airlock['issuer'], 'replay');
  assert.equal(har.log._airlock['grant'], 'replay');
  assert.equal(har.log.entries.length, 4);
  assert.ok(!readFileSync(harPath(id), 'utf8').includes(a.apiKey), 'the replay session redacts the injected key');
  assert.equal((await a.cli(['sessions', 'verify', harPath(id)])).code, 0, 'the replay session is signed and chained');
});

test('replay --strict exits 1 when responses diverge (a key the sandbox does not accept: it answers 403)', async () => {
  const keyFile = join(a.dir, 'sandbox.key');
  writeFileSync(keyFile, `ddapi${'0'.repeat(32)}\n`, { mode: 0o600 });
  assert.equal((await a.cli(['vault', 'put', 'dd-sandbox', '--api-key-file', keyFile])).code, 0);
  const r = await a.cli([
    'replay',
    harPath(ids.get('100')!),
    '--target',
    'https://api.datadoghq.com',
    '--credential',
    'dd-sandbox',
    '--only',
    'GET',
    '--strict',
  ]);
  assert.equal(r.code, 1, r.stdout);
  assert.match(r.stdout, /^GET\s+\/api\/v1\/validate\s+200\s+403\s+no\s+diverged/m);
  assert.ok(!/^POST/m.test(r.stdout), '--only GET leaves the POSTs out');
});

test('replay --dry-run sends nothing; a truncated or placeholder-holding request body is skipped with its reason', async () => {
  const har = JSON.parse(readFileSync(harPath(ids.get('100')!), 'utf8')) as {
    log: { entries: { request: { postData?: { text: string } }; _airlock: Record<string, unknown> }[] };
  };
  har.log.entries[0]!._airlock['truncated'] = { request: true, requestBodySize: 5000, requestBytesRecorded: 1024 };
  har.log.entries[2]!.request.postData!.text = '{"title":"[redacted:agent credential]"}';
  const file = join(a.dir, 'skips.har');
  writeFileSync(file, JSON.stringify(har));
  const before = a.datadog.received.length;
  const dry = await a.cli(['replay', file, '--target', 'https://api.datadoghq.com', '--credential', 'dd-prod', '--dry-run']);
  assert.equal(dry.code, 0, dry.stderr);
  assert.equal(a.datadog.received.length, before, 'a dry run sends nothing');
  assert.match(dry.stdout, /skipped: the request body was truncated in the recording \(1024 of 5000 bytes\)/);
  assert.match(dry.stdout, /skipped: the request body holds a redaction placeholder/);
  const live = await a.cli(['replay', file, '--target', 'https://api.datadoghq.com', '--credential', 'dd-prod']);
  assert.equal(live.code, 0, live.stderr);
  assert.deepEqual(
    a.datadog.received.slice(before).map((g) => g.path),
    ['/api/v1/validate', '/api/v2/nothing-here'],
  );
});

test('replay refuses a target that resolves to an internal address unless upstream.resolve pins it', async () => {
  const r = await a.cli(['replay', harPath(ids.get('100')!), '--target', 'https://127.0.0.1:9', '--credential', 'dd-prod']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /DESTINATION_BLOCKED/);
});

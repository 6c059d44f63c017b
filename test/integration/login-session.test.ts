// `airlock login` end to end against a real `airlock serve`: a GitHub-style token endpoint on
// loopback, the session token through every carrier by a different real client, one session
// per job, replay and spoofing refusals, ambient binding, logout, and a restart that keeps it all.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAirlock, curlVia, run, runCli, type Airlock } from '../fixtures/airlock-process.js';
import { startGithubTokenEndpoint, type GithubTokenEndpoint } from '../fixtures/github-token-endpoint.js';
import { javaGet, nodeHttpsViaConnect, postLogin, postLogout } from '../fixtures/login-clients.js';
import { skipOutsideCi } from '../fixtures/skip-outside-ci.js';
import { waitFor } from '../fixtures/wait-for.js';

let a: Airlock;
let gh: GithubTokenEndpoint;
let tmp: string;
let ca: string;
const VALIDATE = 'https://api.datadoghq.com/api/v1/validate';

before(async () => {
  a = await startAirlock({
    identity: (url) => ({
      issuers: [{ name: 'github', issuer: url, audience: 'airlock' }],
      grants: [
        {
          name: 'dashboards-bot',
          issuer: 'github',
          claims: { repository_id: '123456', repository_owner_id: '654321', ref: 'refs/heads/main', event_name: ['push', 'workflow_dispatch'] },
          credential: 'dd-prod',
        },
      ],
      ambient: true,
      sessionTtl: '1h',
    }),
  });
  gh = await startGithubTokenEndpoint(a.issuer);
  tmp = mkdtempSync(join(tmpdir(), 'airlock-login-'));
  ca = readFileSync(a.caPath, 'utf8');
});
after(async () => {
  await gh?.close();
  await a?.cleanup();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** `export K='v'` lines into a map. */
function parseExports(sh: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of sh.split('\n')) {
    const m = /^export ([A-Za-z_]+)='(.*)'$/.exec(line);
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

function requestLines(): Record<string, unknown>[] {
  return a.logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l['msg'] === 'request');
}

/** The canonical lines of the next `n` requests: a line is written when the response closes, maybe after the client is done. */
async function nextLines(before: number, n = 1): Promise<Record<string, unknown>[]> {
  const lines = await waitFor(`${n} request log lines`, () => (requestLines().length >= before + n ? requestLines() : undefined));
  return lines.slice(before, before + n);
}

async function loginViaGithub(extraArgs: string[] = [], claimsEnv: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return runCli(['login', '--proxy', a.proxyUrl, '--ca-file', join(tmp, 'ca.pem'), ...extraArgs], {
    ACTIONS_ID_TOKEN_REQUEST_URL: gh.requestUrl,
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: gh.requestToken,
    RUNNER_TEMP: tmp,
    ...claimsEnv,
  });
}

let session = '';
let token = '';

test('airlock login --github fetches the job token for audience airlock and prints proxy, key and CA exports that curl can use', async () => {
  const r = await loginViaGithub(['--github', '--format', 'sh']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(gh.audiences.slice(-1), ['airlock']);
  const env = parseExports(r.stdout);
  token = env['AIRLOCK_SESSION_TOKEN']!;
  assert.match(token, /^alk_[A-Za-z0-9_-]{43}$/);
  assert.equal(env['HTTPS_PROXY'], `http://airlock:${token}@127.0.0.1:${a.port}`);
  assert.equal(env['https_proxy'], env['HTTPS_PROXY']);
  assert.match(env['DD_API_KEY']!, /^[0-9a-f]{32}$/, 'a stand-in in the API key shape');
  assert.match(env['DD_APP_KEY']!, /^[0-9a-f]{40}$/, 'a stand-in in the application key shape');
  assert.equal(env['NODE_USE_ENV_PROXY'], '1');
  for (const k of ['NODE_EXTRA_CA_CERTS', 'REQUESTS_CA_BUNDLE', 'SSL_CERT_FILE', 'CURL_CA_BUNDLE']) assert.equal(env[k], join(tmp, 'ca.pem'), k);
  const bundle = readFileSync(join(tmp, 'ca.pem'), 'utf8');
  assert.ok(bundle.startsWith(ca.trim()), 'the bundle starts with the Airlock CA');
  assert.equal(statSync(join(tmp, 'ca.pem')).mode & 0o777, 0o644);

  // curl: proxy URL credentials (Basic, password = session token), CA from CURL_CA_BUNDLE.
  const before = requestLines().length;
  const c = await run('curl', ['-sS', '--fail-with-body', VALIDATE], {
    env: { HTTPS_PROXY: env['HTTPS_PROXY'], CURL_CA_BUNDLE: env['CURL_CA_BUNDLE'], NO_PROXY: '' },
  });
  assert.equal(c.code, 0, c.stderr + c.stdout);
  assert.deepEqual(JSON.parse(c.stdout), { valid: true });
  const got = a.datadog.received.at(-1)!;
  assert.equal(got.headers['dd-api-key'], a.apiKey, 'Datadog got the vaulted key, not the session token');
  const [line] = await nextLines(before);
  session = String(line!['session']);
  assert.match(session, /\S/);
  // One name for the session id in every log line: the store's own lines say `session` too.
  const opened = a.logs.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l['msg'] === 'session opened' && l['session'] === session);
  assert.ok(opened, 'the session-opened log line names the session as `session`');
  assert.equal(line!['grant'], 'dashboards-bot');
});

test('the same session token through urllib3 (DD-API-KEY, proxy without credentials), Node https (manual CONNECT) and Authorization: Bearer lands in one session', async () => {
  const py = [
    'import os, urllib3',
    'p = urllib3.ProxyManager("http://127.0.0.1:" + os.environ["PORT"], ca_certs=os.environ["SSL_CERT_FILE"], timeout=20)',
    'r = p.request("GET", "https://api.datadoghq.com/api/v1/validate", headers={"DD-API-KEY": os.environ["DD_API_KEY"]})',
    'print(r.status, r.data.decode())',
  ].join('\n');
  const before = requestLines().length;
  const p = await run('/usr/bin/python3', ['-c', py], { env: { PORT: String(a.port), SSL_CERT_FILE: join(tmp, 'ca.pem'), DD_API_KEY: token } });
  assert.equal(p.code, 0, p.stderr);
  assert.equal(p.stdout.trim(), '200 {"valid":true}');

  const n = await nodeHttpsViaConnect(a.port, ca, '/api/v1/validate', { 'DD-API-KEY': token });
  assert.equal(n.status, 200, n.body);

  const b = await curlVia(a, null, VALIDATE, ['--fail-with-body', '-H', `Authorization: Bearer ${token}`, '-H', `DD-APPLICATION-KEY: ${token}`]);
  assert.equal(b.code, 0, b.stderr + b.stdout);

  const last = await nextLines(before, 3);
  assert.deepEqual(
    last.map((l) => l['session']),
    [session, session, session],
  );
  assert.deepEqual(
    last.map((l) => (l['identity'] as Record<string, string>)['auth']),
    ['session-token', 'session-token', 'session-token'],
  );
  for (const r of a.datadog.received.slice(-3)) assert.ok(!JSON.stringify(r.rawHeaders).includes(token), 'no session token upstream');
});

test('log lines name the session, grant and identity claims; the token itself is in no log line', () => {
  const line = requestLines().at(-1)!;
  const who = line['identity'] as Record<string, string>;
  assert.equal(who['repository'], 'acme/app');
  assert.equal(who['repository_id'], '123456');
  assert.equal(who['run_id'], '1001');
  assert.equal(who['run_attempt'], '1');
  assert.equal(who['actor'], 'octocat');
  assert.equal(who['event_name'], 'push');
  assert.match(who['workflow_ref']!, /ci\.yml@refs\/heads\/main$/);
  assert.ok(who['issuer'] && who['sub']);
  assert.ok(!a.logs.join('\n').includes(token), 'the session token never reaches the log');
});

test('logging in again with a fresh JWT for the same job returns a new token for the same session', async () => {
  const r = await postLogin(a.port, await a.issuer.mint());
  assert.equal(r.status, 200, r.body);
  const body = JSON.parse(r.body) as { token: string; session: string; grant: string };
  assert.notEqual(body.token, token);
  assert.equal(body.session, session);
  assert.equal(body.grant, 'dashboards-bot');
});

test('a replayed JWT is refused with TOKEN_INVALID, and so is one without jti', async () => {
  const jwt = await a.issuer.mint({ run_id: '2001' });
  assert.equal((await postLogin(a.port, jwt)).status, 200);
  const again = await postLogin(a.port, jwt);
  assert.equal(again.status, 403);
  assert.equal(again.headers['x-airlock-error'], 'TOKEN_INVALID');
  assert.match(again.body, /already exchanged/);
  const noJti = await postLogin(a.port, await a.issuer.mint({ jti: undefined }));
  assert.equal(noJti.headers['x-airlock-error'], 'TOKEN_INVALID');
  assert.match(noJti.body, /jti/);
});

test('spoofing: a matching repository name with another repository_id, another owner id, or pull_request_target is refused with NO_GRANT', async () => {
  const cases: Record<string, unknown>[] = [
    { repository: 'acme/app', repository_id: '999999' },
    { repository_owner: 'acme', repository_owner_id: '111' },
    { event_name: 'pull_request_target' },
    { repository_id: 123456, event_name: 'push', ref: 'refs/heads/main-evil' },
  ];
  for (const claims of cases) {
    const r = await postLogin(a.port, await a.issuer.mint(claims));
    assert.equal(r.status, 403, JSON.stringify(claims));
    assert.equal(r.headers['x-airlock-error'], 'NO_GRANT', JSON.stringify(claims));
    assert.ok(!r.body.includes('654321') || 'repository_owner_id' in claims, 'a refused job is not told what the grant expects');
  }
  // The raw JWT on a proxied request is judged by the same rules.
  const jwt = await a.issuer.mint({ repository_id: '999999' });
  const c = await curlVia(a, null, VALIDATE, ['-o', '/dev/null', '-w', '%{http_code}', '-H', `DD-API-KEY: ${jwt}`]);
  assert.equal(c.stdout, '403');
});

test('ambient binding: a Java client sending nothing is attributed to the bound job; another job cannot bind; a request with a token is judged by it', async (t) => {
  // Java is the point (a client that cannot carry proxy credentials): no stand-in client when it is missing.
  const hasJava = (await run('java', ['-version'])).code === 0 && (await run('keytool', ['-help'])).code === 0;
  if (skipOutsideCi(t, !hasJava && 'java/keytool not installed (the credential-less client of this test)')) return;
  const bind = await postLogin(a.port, await a.issuer.mint({ run_id: '3001' }), { bind: true });
  assert.equal(bind.status, 200, bind.body);
  const bound = JSON.parse(bind.body) as { token: string; session: string; bound: boolean };
  assert.equal(bound.bound, true);

  const other = await postLogin(a.port, await a.issuer.mint({ run_id: '3002' }), { bind: true });
  assert.equal(other.status, 409);
  assert.equal(other.headers['x-airlock-error'], 'BIND_CONFLICT');

  const javaDir = mkdtempSync(join(tmp, 'java-'));
  const beforeJava = requestLines().length;
  const j = await javaGet(javaDir, a.caPath, a.port, VALIDATE);
  assert.equal(j.code, 0, j.stderr);
  assert.equal(j.stdout.trim(), '200 {"valid":true}');
  const [line] = await nextLines(beforeJava);
  assert.equal(line!['session'], bound.session);
  assert.equal((line!['identity'] as Record<string, string>)['auth'], 'ambient');

  // The first job's token still decides its own requests while another job is bound.
  const beforeCurl = requestLines().length;
  const c = await run('curl', ['-sS', '--fail-with-body', '--proxy', `http://airlock:${token}@127.0.0.1:${a.port}`, '--cacert', a.caPath, VALIDATE]);
  assert.equal(c.code, 0, c.stderr);
  assert.equal((await nextLines(beforeCurl))[0]!['session'], session);

  // Logout releases the binding: token-less requests are TOKEN_MISSING again.
  const out = await runCli(['logout', '--proxy', a.proxyUrl], { AIRLOCK_SESSION_TOKEN: bound.token });
  assert.equal(out.code, 0, out.stderr);
  const n = await nodeHttpsViaConnect(a.port, ca, '/api/v1/validate', {});
  assert.equal(n.status, 407);
  assert.equal(n.headers['x-airlock-error'], 'TOKEN_MISSING');
});

test('format json shows the grant; github-env masks the token first and appends the variables to $GITHUB_ENV', async () => {
  const j = await loginViaGithub(['--format', 'json']);
  assert.equal(j.code, 0, j.stderr);
  const body = JSON.parse(j.stdout) as { grant: string; session: string; env: Record<string, string>; identity: Record<string, string> };
  assert.equal(body.grant, 'dashboards-bot');
  assert.equal(body.session, session);
  assert.equal(body.identity['repository_id'], '123456');

  const ghEnv = join(tmp, 'github_env');
  writeFileSync(ghEnv, 'EXISTING=1\n');
  const g = await loginViaGithub(['--format', 'github-env'], { GITHUB_ENV: ghEnv });
  assert.equal(g.code, 0, g.stderr);
  const first = g.stdout.split('\n')[0]!;
  assert.match(first, /^::add-mask::alk_[A-Za-z0-9_-]{43}$/);
  const t = first.slice('::add-mask::'.length);
  const masks = g.stdout
    .split('\n')
    .filter((l) => l.startsWith('::add-mask::'))
    .map((l) => l.slice('::add-mask::'.length));
  const lines = readFileSync(ghEnv, 'utf8').split('\n');
  assert.equal(lines[0], 'EXISTING=1');
  assert.ok(lines.includes(`HTTPS_PROXY=http://airlock:${t}@127.0.0.1:${a.port}`));
  assert.ok(lines.includes(`AIRLOCK_SESSION_TOKEN=${t}`));
  const api = lines.find((l) => l.startsWith('DD_API_KEY='))!.slice('DD_API_KEY='.length);
  const app = lines.find((l) => l.startsWith('DD_APP_KEY='))!.slice('DD_APP_KEY='.length);
  assert.deepEqual(masks, [t, api, app], 'the token and both stand-ins are masked before any later step logs');
});

test('login without a token source says what to configure', async () => {
  const r = await runCli(['login', '--proxy', a.proxyUrl], { ACTIONS_ID_TOKEN_REQUEST_URL: '', ACTIONS_ID_TOKEN_REQUEST_TOKEN: '', AIRLOCK_ID_TOKEN: '' });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /id-token: write/);
  assert.match(r.stderr, /id_tokens: AIRLOCK_ID_TOKEN: \{aud: airlock\}/);
});

test('a restart keeps session tokens and the replay cache; the state file holds no token and is 0600', async () => {
  const jwt = await a.issuer.mint({ run_id: '4001' });
  const r = await postLogin(a.port, jwt);
  const t = (JSON.parse(r.body) as { token: string }).token;
  await a.stop();
  await a.start();
  const file = join(a.stateDir, 'login-sessions.json');
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.ok(!readFileSync(file, 'utf8').includes(t), 'only the hash is stored');
  const c = await run('curl', ['-sS', '--fail-with-body', '--proxy', `http://airlock:${t}@127.0.0.1:${a.port}`, '--cacert', a.caPath, VALIDATE]);
  assert.equal(c.code, 0, c.stderr + c.stdout);
  assert.equal((await postLogin(a.port, jwt)).headers['x-airlock-error'], 'TOKEN_INVALID');
});

test('logout ends the token (TOKEN_INVALID after) and closes the session, whose HAR names session, grant and identity per entry', async () => {
  const r = await postLogin(a.port, await a.issuer.mint());
  const body = JSON.parse(r.body) as { token: string; session: string };
  const c = await run('curl', ['-sS', '--fail-with-body', '--proxy', `http://airlock:${body.token}@127.0.0.1:${a.port}`, '--cacert', a.caPath, VALIDATE]);
  assert.equal(c.code, 0, c.stderr);
  const out = await postLogout(a.port, body.token);
  assert.equal(out.status, 200, out.body);
  const closed = JSON.parse(out.body) as { session: string; har: string };
  assert.equal(closed.session, body.session);
  const har = JSON.parse(readFileSync(closed.har, 'utf8')) as {
    log: { _airlock: { closeReason: string }; entries: { _airlock: { session: string; grant: string; identity: Record<string, string> } }[] };
  };
  assert.equal(har.log._airlock.closeReason, 'logout');
  const e = har.log.entries.at(-1)!;
  assert.equal(e._airlock.session, body.session);
  assert.equal(e._airlock.grant, 'dashboards-bot');
  assert.equal(e._airlock.identity['repository_id'], '123456');
  assert.ok(!JSON.stringify(har).includes(body.token), 'no session token in the HAR');
  const after = await nodeHttpsViaConnect(a.port, ca, '/api/v1/validate', { 'DD-API-KEY': body.token });
  assert.equal(after.status, 403);
  assert.equal(after.headers['x-airlock-error'], 'TOKEN_INVALID');
  const ls = await a.cli(['sessions', 'ls']);
  assert.match(ls.stdout, /acme\/app#123456 run 1001\.1 push by octocat/);
});

test('a refused login prints one "airlock: CODE: message" line, and --format json prints its failing verdict as JSON on stdout', async () => {
  const jwtFile = join(tmp, 'wrong-aud.jwt');
  writeFileSync(jwtFile, await a.issuer.mint({}, { audience: 'someone-else' }));
  const r = await runCli(['login', '--proxy', a.proxyUrl, '--ca-file', join(tmp, 'ca.pem'), '--token-file', jwtFile]);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^airlock: TOKEN_INVALID: the identity token was rejected \(wrong audience: expected "airlock", the token has "someone-else"/);
  assert.equal(r.stderr.match(/airlock:/g)?.length, 1, `one prefix: ${r.stderr}`);
  const j = await runCli(['login', '--proxy', a.proxyUrl, '--ca-file', join(tmp, 'ca.pem'), '--token-file', jwtFile, '--format', 'json']);
  assert.equal(j.code, 1);
  assert.deepEqual(Object.keys(JSON.parse(j.stdout) as object), ['ok', 'code', 'message']);
  assert.match(j.stderr, /^airlock: TOKEN_INVALID: /);
});

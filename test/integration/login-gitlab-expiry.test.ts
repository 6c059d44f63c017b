// A GitLab-style job (preset: gitlab on the local issuer, token in AIRLOCK_ID_TOKEN), session
// tokens that expire (TOKEN_EXPIRED), whoami's verdicts, and check-config's grant warnings.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { startAirlock, run, runCli, type Airlock } from '../fixtures/airlock-process.js';
import { nodeHttpsViaConnect, postLogin } from '../fixtures/login-clients.js';
import { waitFor } from '../fixtures/wait-for.js';

let a: Airlock;
let tmp: string;
const VALIDATE = 'https://api.datadoghq.com/api/v1/validate';
const GITLAB_CLAIMS = {
  sub: 'project_path:group/proj:ref_type:branch:ref:main',
  project_path: 'group/proj',
  project_id: '42',
  namespace_id: '7',
  namespace_path: 'group',
  pipeline_id: '9001',
  job_id: '9002',
  user_login: 'alice',
  ref: 'main',
  ref_type: 'branch',
  ref_protected: 'true',
  // GitHub's claims from the fixture's defaults must not decide anything here.
  repository: undefined,
  repository_id: undefined,
  run_id: undefined,
  run_attempt: undefined,
};

before(async () => {
  a = await startAirlock({
    identity: (url) => ({
      issuers: [{ name: 'gitlab', preset: 'gitlab', url, audience: 'airlock' }],
      grants: [{ name: 'proj-main', issuer: 'gitlab', claims: { project_id: '42', project_path: 'group/proj', ref_protected: true }, credential: 'dd-prod' }],
      sessionTtl: '2s',
    }),
  });
  tmp = mkdtempSync(join(tmpdir(), 'airlock-gitlab-'));
});
after(async () => {
  await a?.cleanup();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

test('a GitLab token in AIRLOCK_ID_TOKEN logs in with no source flag; the session token then expires with TOKEN_EXPIRED', async () => {
  const jwt = await a.issuer.mint(GITLAB_CLAIMS);
  const r = await runCli(['login', '--proxy', a.proxyUrl, '--format', 'json', '--ca-file', join(tmp, 'ca.pem')], {
    AIRLOCK_ID_TOKEN: jwt,
    ACTIONS_ID_TOKEN_REQUEST_URL: '',
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: '',
  });
  assert.equal(r.code, 0, r.stderr);
  const body = JSON.parse(r.stdout) as { token: string; expiresAt: string; grant: string; identity: Record<string, string>; env: Record<string, string> };
  assert.equal(body.grant, 'proj-main');
  assert.deepEqual(
    {
      p: body.identity['project_path'],
      id: body.identity['project_id'],
      pl: body.identity['pipeline_id'],
      j: body.identity['job_id'],
      u: body.identity['user_login'],
    },
    { p: 'group/proj', id: '42', pl: '9001', j: '9002', u: 'alice' },
  );
  const c = await run('curl', ['-sS', '--fail-with-body', VALIDATE], {
    env: { HTTPS_PROXY: body.env['HTTPS_PROXY'], CURL_CA_BUNDLE: body.env['CURL_CA_BUNDLE'], NO_PROXY: '' },
  });
  assert.equal(c.code, 0, c.stderr + c.stdout);

  // No guessed sleep: ask until Airlock stops taking the token, then check that was not before the
  // expiry the login announced (same machine, same clock).
  const ca = readFileSync(a.caPath, 'utf8');
  const expired = await waitFor(
    'the session token to expire',
    async () => {
      const r2 = await nodeHttpsViaConnect(a.port, ca, '/api/v1/validate', { 'DD-API-KEY': body.token });
      return r2.status === 200 ? undefined : r2;
    },
    30_000,
    200,
  );
  assert.ok(Date.now() >= Date.parse(body.expiresAt), `refused before the announced expiry ${body.expiresAt}`);
  assert.equal(expired.status, 403);
  assert.equal(expired.headers['x-airlock-error'], 'TOKEN_EXPIRED');
  assert.match(expired.body, /airlock login/);
});

test('spoofing on GitLab: a matching project_path with another project_id is refused with NO_GRANT', async () => {
  const r = await postLogin(a.port, await a.issuer.mint({ ...GITLAB_CLAIMS, project_id: '666' }));
  assert.equal(r.status, 403);
  assert.equal(r.headers['x-airlock-error'], 'NO_GRANT');
  assert.match(r.body, /proj-main: project_id \\"666\\" does not match/);
  assert.ok(!r.body.includes('"42"') && !r.body.includes('\\"42\\"'), 'the job is not told the expected id');
});

test('whoami --token-file shows the grant a token gets, or per grant the first claim that failed', async () => {
  const good = join(tmp, 'good.jwt');
  const bad = join(tmp, 'bad.jwt');
  writeFileSync(good, await a.issuer.mint(GITLAB_CLAIMS));
  writeFileSync(bad, await a.issuer.mint({ ...GITLAB_CLAIMS, ref_protected: 'false' }));
  const ok = await a.cli(['whoami', '--token-file', good]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /token: +verified/);
  assert.match(ok.stdout, /grant: +proj-main/);
  const no = await a.cli(['whoami', '--token-file', bad]);
  assert.equal(no.code, 1);
  // The verdict is the result: on stdout; stderr carries one line saying why the exit is 1.
  assert.match(no.stdout, /proj-main: ref_protected is "false", the grant wants "true"/);
  assert.match(no.stderr, /^airlock: NO_GRANT: no grant matches this token/);
  assert.equal(no.stderr.trim().split('\n').length, 1);
  const json = await a.cli(['whoami', '--token-file', bad, '--json']);
  assert.equal(json.code, 1);
  assert.equal((JSON.parse(json.stdout) as { grant: unknown }).grant, null, '--json is valid JSON on stdout, failing verdict included');
});

test('check-config warns about name-only and unpinned grants, exits 0, and exits 2 with --strict; an unpinned grant on a shared issuer is an error unless allowAnyTenant', async () => {
  const cfg = join(tmp, 'warn.yaml');
  writeFileSync(
    cfg,
    stringify({
      stateDir: join(tmp, 'state'),
      identity: {
        issuers: [
          { name: 'gh', preset: 'github', audience: 'airlock' },
          { name: 'gl', preset: 'gitlab', audience: 'airlock' },
        ],
        grants: [
          { name: 'by-name', issuer: 'gh', claims: { repository: 'acme/app', repository_owner: 'acme' }, credential: 'x' },
          { name: 'anyone', issuer: 'gh', claims: { ref: 'refs/heads/main' }, credential: 'x', allowAnyTenant: true },
          { name: 'gl-path', issuer: 'gl', claims: { project_path: 'group/proj' }, credential: 'x' },
          {
            name: 'pinned',
            issuer: 'gh',
            claims: { repository_id: '1', repository_owner_id: '2', ref: 'refs/heads/main', event_name: 'push' },
            credential: 'x',
          },
        ],
      },
    }),
  );
  const r = await runCli(['check-config', '--config', cfg]);
  assert.equal(r.code, 0, r.stderr);
  const w = r.stdout.split('\n').filter((l) => l.includes('warning:'));
  assert.ok(w.some((l) => l.includes('identity.grants[0].claims.repository:') && l.includes('repository_id')));
  assert.ok(w.some((l) => l.includes('identity.grants[0].claims.repository_owner:') && l.includes('repository_owner_id')));
  assert.ok(w.some((l) => l.includes('identity.grants[1].claims:') && l.includes('every tenant')));
  assert.ok(w.some((l) => l.includes('identity.grants[1].claims.ref:') && l.includes('pull_request_target')));
  assert.ok(w.some((l) => l.includes('identity.grants[2].claims.project_path:') && l.includes('project_id')));
  assert.ok(!w.some((l) => l.includes('grants[3]')), 'a pinned grant draws no warning');
  const strict = await runCli(['check-config', '--strict', '--config', cfg]);
  assert.equal(strict.code, 2);
  // Without allowAnyTenant, serve refuses it: check-config says so and exits 2, never "ok".
  writeFileSync(cfg, readFileSync(cfg, 'utf8').replace('allowAnyTenant: true', 'allowAnyTenant: false'));
  const refused = await runCli(['check-config', '--config', cfg]);
  assert.equal(refused.code, 2);
  assert.match(refused.stdout, /: refused by serve \(1 problem\)/);
  assert.match(refused.stdout, /error: identity\.grants\[1\]\.claims: grant anyone pins no tenant/);
});

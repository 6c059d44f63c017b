// `airlock approvals` against the bus, through a real `airlock serve` and a real redis-server:
// the approver comes from a verified ID token (never argv), Redis SIGKILLed and restarted
// mid-hold loses nothing, and a hold whose bus is gone is refused at its timeout, after which a
// decision is refused as expired.
import { after, before, test } from 'node:test';
import { skipOutsideCi } from '../fixtures/skip-outside-ci.js';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { ProxyAgent, request } from 'undici';
import { parse, stringify } from 'yaml';
import { startAirlock, type Airlock } from '../fixtures/airlock-process.js';
import { REDIS_MISSING, startRedis, type RedisServer } from '../fixtures/redis-server.js';
import { waitFor } from '../fixtures/wait-for.js';

const POLICY = { default: 'allow', rules: [{ match: 'DELETE /api/v1/dashboard/*', action: 'approve' }] };
// The first test's hold must outlast a dozen CLI runs (each seconds long on a loaded CI machine):
// a hold it never waits out, so its time does not matter; it ends as soon as the approval comes.
// The second test waits for the timeout itself, and restarts serve with a short one.
const LONG_HOLD = '5m';
const SHORT_HOLD = '20s';
const CLIENT_WAIT_MS = 6 * 60_000;
let redis: RedisServer;
let a: Airlock;

before(async () => {
  if (REDIS_MISSING) return;
  redis = await startRedis();
  let issuer = '';
  a = await startAirlock({
    identity: (url) => {
      issuer = url;
      return {
        issuers: [{ name: 'github', issuer: url, audience: 'airlock', algorithms: ['RS256'] }],
        grants: [{ name: 'dashboards-bot', issuer: 'github', claims: { repository_id: '123456' }, credential: 'dd-prod', policy: 'writer' }],
      };
    },
    config: {
      policies: { writer: POLICY },
      approvals: { timeout: LONG_HOLD, bus: { type: 'redis', url: redis.url, keyPrefix: 'cli:' } },
      // The CLI verifies the operator's token with console.oidc and console.approvers; the
      // console itself does not run here. The test issuer stands in for the organization's IdP.
      // A getter: the issuer's URL is known once the fixture has started it.
      get console() {
        return { publicUrl: 'http://127.0.0.1:9', oidc: { issuer, clientId: 'airlock-console' }, approvers: { emails: ['ops@example.com'] } };
      },
    },
  }).catch(async (err: unknown) => {
    await redis.cleanup();
    throw err;
  });
});

after(async () => {
  await a?.cleanup();
  await redis?.cleanup();
});

function del(run_id: string, path: string) {
  return (async () => {
    const token = await a.issuer.mint({ run_id });
    const dispatcher = new ProxyAgent({
      uri: a.proxyUrl,
      token: `Bearer ${token}`,
      requestTls: { ca: readFileSync(a.caPath, 'utf8') },
      headersTimeout: CLIENT_WAIT_MS,
      bodyTimeout: CLIENT_WAIT_MS,
    });
    try {
      const r = await request(`https://api.datadoghq.com${path}`, { method: 'DELETE', dispatcher });
      return { status: r.statusCode, code: r.headers['x-airlock-error'], text: await r.body.text() };
    } finally {
      await dispatcher.close();
    }
  })();
}

async function pendingIds(env: NodeJS.ProcessEnv, url: string): Promise<string | undefined> {
  const r = await a.cli(['approvals', 'ls', '--json'], env);
  if (r.code !== 0) return undefined;
  return (JSON.parse(r.stdout) as { id: string; url: string }[]).find((p) => p.url.endsWith(url))?.id;
}

test('approvals on the bus name the approver from a verified token; no token, a foreign audience or a non-approver is refused; Redis restarted mid-hold loses nothing', async (t) => {
  if (skipOutsideCi(t, REDIS_MISSING)) return;
  const env = { AIRLOCK_APPROVER_TOKEN: await a.issuer.mint({ sub: 'ops', email: 'ops@example.com', email_verified: true }, { audience: 'airlock-console' }) };
  const pending = del('cli-1', '/api/v1/dashboard/cli-1');
  const id = await waitFor('the hold on the bus', () => pendingIds(env, '/dashboard/cli-1'));

  const none = await a.cli(['approvals', 'approve', id], { AIRLOCK_APPROVER_TOKEN: '' });
  assert.notEqual(none.code, 0);
  assert.match(none.stderr, /CONSOLE_AUTH/);
  const foreign = await a.cli(['approvals', 'approve', id], {
    AIRLOCK_APPROVER_TOKEN: await a.issuer.mint({ email: 'ops@example.com' }, { audience: 'airlock' }),
  });
  assert.match(foreign.stderr, /CONSOLE_AUTH/);
  const outsider = await a.cli(['approvals', 'approve', id], {
    AIRLOCK_APPROVER_TOKEN: await a.issuer.mint({ email: 'eve@example.com' }, { audience: 'airlock-console' }),
  });
  assert.match(outsider.stderr, /APPROVER_NOT_ALLOWED/);

  await redis.kill();
  const down = await a.cli(['approvals', 'ls'], env);
  assert.match(down.stderr, /BUS_UNAVAILABLE/);
  await redis.start();
  assert.equal(await waitFor('the hold after the restart', () => pendingIds(env, '/dashboard/cli-1')), id);
  const ok = await a.cli(['approvals', 'approve', id, '--note', 'after the restart'], env);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /by ops@example\.com/);
  const r = await pending;
  assert.equal(r.status, 200, r.text);

  const ls = JSON.parse((await a.cli(['sessions', 'ls', '--json'])).stdout) as { id: string; claims: Record<string, unknown> }[];
  const s = ls.find((e) => e.claims['run_id'] === 'cli-1');
  const har = JSON.parse((await a.cli(['sessions', 'export', s!.id])).stdout) as { log: { entries: { _airlock: Record<string, unknown> }[] } };
  const approval = har.log.entries.at(-1)?._airlock['approval'] as Record<string, string>;
  assert.equal(approval['by'], 'ops@example.com');
  assert.equal(approval['channel'], 'cli');
  assert.equal(approval['note'], 'after the restart');
});

test('with Redis gone mid-hold the request is refused at approvals.timeout (fail closed); a decision after that is refused as expired', async (t) => {
  if (skipOutsideCi(t, REDIS_MISSING)) return;
  await a.stop();
  const config = parse(readFileSync(a.configPath, 'utf8')) as { approvals: { timeout: string } };
  config.approvals.timeout = SHORT_HOLD;
  writeFileSync(a.configPath, stringify(config));
  await a.start();
  const env = { AIRLOCK_APPROVER_TOKEN: await a.issuer.mint({ sub: 'ops', email: 'ops@example.com', email_verified: true }, { audience: 'airlock-console' }) };
  const pending = del('cli-2', '/api/v1/dashboard/cli-2');
  const id = await waitFor('the hold on the bus', () => pendingIds(env, '/dashboard/cli-2'));
  await redis.kill();
  const r = await pending;
  assert.equal(r.status, 403);
  assert.equal(r.code, 'APPROVAL_TIMEOUT');
  await redis.start();
  const late = await waitFor('an answer from the restarted bus', async () => {
    const x = await a.cli(['approvals', 'approve', id], env);
    return /BUS_UNAVAILABLE/.test(x.stderr) ? undefined : x;
  });
  assert.notEqual(late.code, 0);
  assert.match(late.stderr, /HOLD_EXPIRED/);
});

// The approval console end to end, with real parts only: two `airlock serve` sharing one real
// redis-server, `airlock console` signing in through a real OpenID Provider (oidc-provider) in
// real Chromium (playwright-core), a hold on the second instance approved in the browser, a hold
// on the first denied by a Slack-signed callback (tampered, replayed and unknown-user callbacks
// refused), and both decisions with the verified approver in the HARs.
import { after, before, test } from 'node:test';
import { skipOutsideCi } from '../fixtures/skip-outside-ci.js';
import assert from 'node:assert/strict';
import http from 'node:http';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { AddressInfo } from 'node:net';
import { ProxyAgent, request } from 'undici';
import { stringify } from 'yaml';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startAirlock, CLI, type Airlock } from '../fixtures/airlock-process.js';
import { REDIS_MISSING, startRedis, freePort, type RedisServer } from '../fixtures/redis-server.js';
import { startProvider, type TestProvider } from '../fixtures/oidc-provider.js';
import { CHROMIUM_PATH } from '../fixtures/devtools-import.js';
import { slackSignature } from '../../appliance/console/slack-signature.js';
import { waitFor } from '../fixtures/wait-for.js';

const POLICY = {
  default: 'allow',
  rules: [
    { match: 'DELETE /api/v1/dashboard/*', action: 'approve', reason: 'deleting a dashboard needs a person' },
    { match: 'POST /api/v1/monitor', action: 'approve', reason: 'new monitors page people: review first' },
  ],
};
const MONITOR = { name: 'cpu high', type: 'metric alert', query: 'avg(last_5m):avg:system.cpu.user{*} > 90', message: 'paging @sre-oncall' };
const SLACK_SECRET = 'slack-signing-secret-0123456789abcdef';
/** The console screenshots in docs/images are refreshed by running this test with AIRLOCK_SCREENSHOTS=docs/images. */
const SHOTS = process.env['AIRLOCK_SCREENSHOTS'];
const MISSING = REDIS_MISSING || (!existsSync(CHROMIUM_PATH) && `needs ${CHROMIUM_PATH} (apt-get install chromium)`);

let redis: RedisServer;
let provider: TestProvider;
let a: Airlock;
let b: Airlock;
let dir: string;
let consoleUrl: string;
let consoleProc: ChildProcess | undefined;
const consoleLogs: string[] = [];
let hookServer: http.Server;
const hooks: Record<string, unknown>[] = [];
let browser: Browser;

function startConsole(configPath: string): Promise<void> {
  const proc = spawn(process.execPath, [CLI, 'console', '--config', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  consoleProc = proc;
  return new Promise((resolveStart, reject) => {
    const timer = setTimeout(() => reject(new Error(`console did not start: ${consoleLogs.join('\n')}`)), 30_000);
    proc.stdout.on('data', (d: Buffer) => {
      for (const line of d.toString('utf8').split('\n')) {
        if (!line) continue;
        consoleLogs.push(line);
        if (line.includes('airlock console listening')) {
          clearTimeout(timer);
          resolveStart();
        }
      }
    });
    proc.stderr.on('data', (d: Buffer) => consoleLogs.push(d.toString('utf8')));
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`console exited ${String(code)}: ${consoleLogs.join('\n')}`));
    });
  });
}

before(async () => {
  if (MISSING) return;
  dir = mkdtempSync(join(tmpdir(), 'airlock-console-'));
  redis = await startRedis();
  hookServer = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      hooks.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>);
      res.end('ok');
    });
  });
  await new Promise<void>((r) => hookServer.listen(0, '127.0.0.1', () => r()));
  const hook = `http://127.0.0.1:${(hookServer.address() as AddressInfo).port}/slack`;
  const bus = { type: 'redis', url: redis.url, keyPrefix: 'e2e:' };
  const approvals = { timeout: '90s', bus, webhook: hook, webhookFormat: 'slack' };
  a = await startAirlock({ grantPolicy: 'writer', config: { policies: { writer: POLICY }, approvals } });
  b = await startAirlock({ grantPolicy: 'writer', config: { policies: { writer: POLICY }, approvals } });

  const consolePort = await freePort();
  consoleUrl = `https://127.0.0.1:${consolePort}`;
  provider = await startProvider(await freePort(), `${consoleUrl}/auth/callback`);
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      join(dir, 'console.key'),
      '-out',
      join(dir, 'console.crt'),
    ],
    { stdio: 'ignore' },
  );
  writeFileSync(join(dir, 'client-secret'), provider.clientSecret, { mode: 0o600 });
  writeFileSync(join(dir, 'slack-secret'), SLACK_SECRET, { mode: 0o600 });
  const config = {
    stateDir: join(dir, 'state'),
    approvals: { bus },
    console: {
      listen: { host: '127.0.0.1', port: consolePort },
      publicUrl: consoleUrl,
      tls: { certFile: join(dir, 'console.crt'), keyFile: join(dir, 'console.key') },
      oidc: { issuer: provider.issuer, clientId: provider.clientId, clientSecretFile: join(dir, 'client-secret') },
      approvers: { groups: ['sre'], emails: ['bob@example.com'] },
      slack: { signingSecretFile: join(dir, 'slack-secret'), users: { U0BOB: 'bob@example.com', U0MALLORY: 'mallory@example.com' } },
    },
  };
  writeFileSync(join(dir, 'console.yaml'), stringify(config));
  await startConsole(join(dir, 'console.yaml'));
  browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  await browser?.close();
  if (consoleProc && consoleProc.exitCode === null) {
    const p = consoleProc;
    await new Promise<void>((r) => {
      p.once('exit', () => r());
      p.kill('SIGTERM');
    });
  }
  await a?.cleanup();
  await b?.cleanup();
  await provider?.close();
  await new Promise<void>((r) => {
    hookServer?.close(() => r());
    hookServer?.closeAllConnections();
  });
  await redis?.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function call(x: Airlock, run_id: string, method: string, path: string, body?: unknown) {
  return (async () => {
    const token = await x.issuer.mint({ run_id });
    const dispatcher = new ProxyAgent({
      uri: x.proxyUrl,
      token: `Bearer ${token}`,
      requestTls: { ca: readFileSync(x.caPath, 'utf8') },
      headersTimeout: 120_000,
      bodyTimeout: 120_000,
    });
    try {
      const r = await request(`https://api.datadoghq.com${path}`, {
        method: method as 'GET',
        dispatcher,
        ...(body !== undefined ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}),
      });
      return { status: r.statusCode, headers: r.headers, text: await r.body.text() };
    } finally {
      await dispatcher.close();
    }
  })();
}

interface Entry {
  request: { method: string; url: string };
  _airlock: Record<string, unknown>;
}
async function lastEntry(x: Airlock, run_id: string): Promise<Entry | undefined> {
  const ls = JSON.parse((await x.cli(['sessions', 'ls', '--json'])).stdout) as { id: string; claims: Record<string, unknown> }[];
  const s = ls.find((e) => e.claims['run_id'] === run_id);
  assert.ok(s, `a session for ${run_id}`);
  const har = JSON.parse((await x.cli(['sessions', 'export', s.id])).stdout) as { log: { entries: Entry[] } };
  return har.log.entries.at(-1);
}

/** Chromium may reach loopback only: the provider's page imports a web font from the internet. */
async function newPage(): Promise<Page> {
  const ctx = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1100, height: 760 } });
  await ctx.route('**/*', (route) => (/^https?:\/\/127\.0\.0\.1[:/]/.test(route.request().url()) ? route.continue() : route.abort()));
  return ctx.newPage();
}

async function signIn(page: Page, login: string): Promise<void> {
  await page.goto(consoleUrl);
  await page.fill('input[name=login]', login);
  await page.fill('input[name=password]', 'any');
  await page.click('button[type=submit]');
  await page.click('button:has-text("Continue")');
}

function shot(page: Page, name: string): Promise<unknown> {
  const out = SHOTS ? resolve(SHOTS, name) : join(dir, name);
  if (SHOTS) mkdirSync(resolve(SHOTS), { recursive: true });
  return page.screenshot({ path: out, fullPage: true });
}

test('a request held on the second instance is approved in the console by a signed-in approver, completes, and the HAR names the verified approver', async (t) => {
  if (skipOutsideCi(t, MISSING)) return;
  const page = await newPage();
  await signIn(page, 'alice');
  await page.waitForSelector('#live:has-text("live")');
  assert.match((await page.textContent('#me')) ?? '', /alice@example\.com/);

  const cookies = await page.context().cookies(consoleUrl);
  const session = cookies.find((c) => c.name === '__Host-airlock-console');
  assert.ok(session, 'a session cookie');
  assert.equal(session.secure, true);
  assert.equal(session.httpOnly, true);
  assert.equal(session.sameSite, 'Lax');
  const source = await (await page.request.get(consoleUrl)).text();
  for (const secret of [session.value, provider.clientSecret, SLACK_SECRET]) assert.ok(!source.includes(secret), 'no secret in the page');

  const pending = call(b, 'console-1', 'DELETE', '/api/v1/dashboard/abc-123');
  const card = page.locator('.hold', { hasText: 'DELETE https://api.datadoghq.com/api/v1/dashboard/abc-123' });
  await card.waitFor();
  assert.match((await card.textContent()) ?? '', /deleting a dashboard needs a person/);
  assert.match((await card.textContent()) ?? '', /run_id=console-1/);
  // A second runner's hold shows up on the same page, newest first, with its body preview.
  const monitor = call(a, 'console-2', 'POST', '/api/v1/monitor', MONITOR);
  const monitorCard = page.locator('.hold', { hasText: 'POST https://api.datadoghq.com/api/v1/monitor' });
  await monitorCard.waitFor();
  assert.match((await monitorCard.locator('pre').textContent()) ?? '', /system\.cpu\.user/);
  assert.equal(await page.locator('.hold').first().getAttribute('data-hold'), await monitorCard.getAttribute('data-hold'), 'newest first');
  assert.notEqual(
    await page.locator('.hold .meta', { hasText: 'Runner' }).first().textContent(),
    await page.locator('.hold .meta', { hasText: 'Runner' }).last().textContent(),
  );
  await shot(page, 'console-holds.png');

  // Deny needs a reason: without one nothing is decided.
  await monitorCard.locator('button.deny').click();
  assert.match((await page.textContent('#error')) ?? '', /reason is required/);
  assert.equal(await monitorCard.count(), 1);
  await monitorCard.locator('input').fill('route it to the SRE channel, not a page');
  await monitorCard.locator('button.deny').click();
  const m = await monitor;
  assert.equal(m.status, 403);
  assert.equal(m.headers['x-airlock-error'], 'APPROVAL_DENIED');
  assert.match(m.text, /alice@example\.com: route it to the SRE channel/);
  const me = await lastEntry(a, 'console-2');
  assert.equal(me?._airlock['decision'], 'approval-denied');
  assert.equal((me?._airlock['approval'] as Record<string, string>)['by'], 'alice@example.com');

  // A decision without the page's CSRF token is refused, and changes nothing.
  const id = await card.getAttribute('data-hold');
  const forged = await page.evaluate(async (hold) => {
    const r = await fetch(`/api/holds/${hold}/approve`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    return { status: r.status, code: r.headers.get('x-airlock-error') };
  }, id);
  assert.deepEqual(forged, { status: 403, code: 'CONSOLE_CSRF' });

  await card.locator('input').fill('checked with the owner');
  await card.locator('button.approve').click();
  const r = await pending;
  assert.equal(r.status, 200, r.text);
  await page.locator('#recent td.approved').first().waitFor();
  await shot(page, 'console-decided.png');
  const e = await lastEntry(b, 'console-1');
  assert.equal(e?._airlock['decision'], 'approved');
  assert.deepEqual(
    { ...(e?._airlock['approval'] as object), at: undefined },
    { by: 'alice@example.com', channel: 'console', note: 'checked with the owner', at: undefined },
  );

  // Signing out ends the session on the server, not only in the browser.
  await page.click('#logout button');
  await page.waitForURL(/\/signed-out$/);
  const after = await page.request.get(`${consoleUrl}/api/me`, { headers: { cookie: `__Host-airlock-console=${session.value}` } });
  assert.equal(after.status(), 401, 'the old cookie no longer signs in');
  assert.equal(after.headers()['x-airlock-error'], 'CONSOLE_AUTH');
  await page.context().close();
});

test('a signed-in user who is not an approver is refused at sign-in', async (t) => {
  if (skipOutsideCi(t, MISSING)) return;
  const page = await newPage();
  await signIn(page, 'carol');
  await page.waitForLoadState();
  assert.match((await page.textContent('body')) ?? '', /APPROVER_NOT_ALLOWED|not an approver/);
  assert.equal(
    (await page.context().cookies(consoleUrl)).find((c) => c.name === '__Host-airlock-console'),
    undefined,
  );
  await page.context().close();
});

async function slackPost(body: string, opts: { ts?: number; sig?: string } = {}) {
  const ts = String(opts.ts ?? Math.floor(Date.now() / 1000));
  const sig = opts.sig ?? slackSignature(SLACK_SECRET, ts, body);
  const r = await request(`${consoleUrl}/slack/actions`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': ts, 'x-slack-signature': sig },
    body,
    dispatcher: new (await import('undici')).Agent({ connect: { ca: readFileSync(join(dir, 'console.crt')) } }),
  });
  return { status: r.statusCode, code: r.headers['x-airlock-error'], text: await r.body.text() };
}
const slackBody = (user: string, action: string, hold: string): string =>
  `payload=${encodeURIComponent(JSON.stringify({ type: 'block_actions', user: { id: user }, actions: [{ action_id: action, value: hold }] }))}`;

test('a Slack-signed callback denies a hold on the first instance; tampered, replayed, stale and unknown-user callbacks are refused', async (t) => {
  if (skipOutsideCi(t, MISSING)) return;
  const pending = call(a, 'slack-1', 'DELETE', '/api/v1/dashboard/xyz-789');
  const msg = await waitFor('the Slack message', () => hooks.find((h) => h['event'] === 'held' && JSON.stringify(h).includes('xyz-789')));
  const buttons = (msg['blocks'] as { type: string; elements?: { action_id: string; value: string }[] }[]).find((x) => x.type === 'actions')?.elements ?? [];
  assert.deepEqual(
    buttons.map((x) => x.action_id),
    ['airlock_approve', 'airlock_deny'],
  );
  assert.match(JSON.stringify(msg['blocks']), /Decide within\*\\n90s/);
  const hold = buttons[1]!.value;

  const good = slackBody('U0BOB', 'airlock_deny', hold);
  const tampered = await slackPost(slackBody('U0BOB', 'airlock_approve', hold), {
    sig: slackSignature(SLACK_SECRET, String(Math.floor(Date.now() / 1000)), good),
  });
  assert.deepEqual([tampered.status, tampered.code], [401, 'SLACK_SIGNATURE']);
  const stale = await slackPost(good, { ts: Math.floor(Date.now() / 1000) - 3600 });
  assert.deepEqual([stale.status, stale.code], [401, 'SLACK_SIGNATURE']);
  const stranger = await slackPost(slackBody('U0MALLORY', 'airlock_approve', hold));
  assert.deepEqual([stranger.status, stranger.code], [403, 'APPROVER_NOT_ALLOWED']);
  const unmapped = await slackPost(slackBody('U0NOBODY', 'airlock_approve', hold));
  assert.deepEqual([unmapped.status, unmapped.code], [403, 'APPROVER_NOT_ALLOWED']);

  // Signed but malformed payloads are refused as such, and the console stays up.
  for (const junk of ['payload=null', 'payload=%5B%5D', `payload=${encodeURIComponent('{"type":"block_actions","actions":"x","user":7}')}`, 'nopayload=1']) {
    const r = await slackPost(junk);
    assert.deepEqual([r.status, r.code], [400, 'BAD_REQUEST'], junk);
  }

  const ts = String(Math.floor(Date.now() / 1000));
  const sig = slackSignature(SLACK_SECRET, ts, good);
  const ok = await slackPost(good, { ts: Number(ts), sig });
  assert.equal(ok.status, 200, ok.text);
  const replayed = await slackPost(good, { ts: Number(ts), sig });
  assert.deepEqual([replayed.status, replayed.code], [401, 'SLACK_SIGNATURE']);

  const r = await pending;
  assert.equal(r.status, 403);
  assert.equal(r.headers['x-airlock-error'], 'APPROVAL_DENIED');
  const e = await lastEntry(a, 'slack-1');
  assert.equal(e?._airlock['decision'], 'approval-denied');
  const approval = e?._airlock['approval'] as Record<string, string>;
  assert.equal(approval['by'], 'bob@example.com');
  assert.equal(approval['channel'], 'slack');
});

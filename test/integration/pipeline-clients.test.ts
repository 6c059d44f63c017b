// Real clients through a real `airlock serve`: the agent's key never reaches Datadog, the
// vaulted one does, whatever client and whichever carrier the job's token travels in.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { fetch as undiciFetch, ProxyAgent, request } from 'undici';
import { client, v1 } from '@datadog/datadog-api-client';
import { startAirlock, curlVia, run, type Airlock } from '../fixtures/airlock-process.js';

let a: Airlock;
let ca: string;
const AGENT_KEY = `agentkey${randomBytes(12).toString('hex')}`;

before(async () => {
  a = await startAirlock();
  ca = readFileSync(a.caPath, 'utf8');
});
after(async () => {
  await a.cleanup();
});

function lastReceived(): { path: string; headers: Record<string, string | string[] | undefined>; rawHeaders: string[] } {
  const r = a.datadog.received.at(-1);
  assert.ok(r, 'the fake Datadog received the request');
  return r;
}

function assertVaultedKeysOnly(raw: string[]): void {
  const names = raw.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());
  assert.equal(names.filter((n) => n === 'dd-api-key').length, 1, 'exactly one DD-API-KEY upstream');
  assert.equal(names.filter((n) => n === 'dd-application-key').length, 1, 'exactly one DD-APPLICATION-KEY upstream');
  assert.ok(!names.includes('authorization'), 'no Authorization upstream');
  assert.ok(!names.includes('proxy-authorization'), 'no Proxy-Authorization upstream');
  const text = raw.join('\n');
  assert.ok(text.includes(a.apiKey) && text.includes(a.appKey), 'the vaulted keys were injected');
  assert.ok(!text.includes(AGENT_KEY), 'the agent key never reached Datadog');
  assert.ok(!/eyJ[\w-]+\.eyJ/.test(text), 'no identity token reached Datadog');
}

test('curl with a Bearer Proxy-Authorization creates a dashboard; Datadog sees the vaulted keys, not the agent key', async () => {
  const token = await a.issuer.mint();
  const body = JSON.stringify({ title: 'From curl', layout_type: 'ordered', widgets: [] });
  const r = await curlVia(a, token, 'https://api.datadoghq.com/api/v1/dashboard', [
    '--fail-with-body',
    '-H',
    `DD-API-KEY: ${AGENT_KEY}`,
    '-H',
    'content-type: application/json',
    '-d',
    body,
  ]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match((JSON.parse(r.stdout) as { id: string }).id, /^abc-def-/);
  assert.equal(lastReceived().path, '/api/v1/dashboard');
  assertVaultedKeysOnly(lastReceived().rawHeaders);
});

test('curl with the token as the Basic password in the proxy URL is accepted', async () => {
  const token = await a.issuer.mint();
  const proxy = `http://job:${token}@127.0.0.1:${a.port}`;
  const r = await run('curl', ['-sS', '--fail-with-body', '--proxy', proxy, '--cacert', a.caPath, 'https://api.datadoghq.com/api/v1/validate']);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.deepEqual(JSON.parse(r.stdout), { valid: true });
  assertVaultedKeysOnly(lastReceived().rawHeaders);
});

test('Python requests through HTTPS_PROXY with the token in the proxy URL validates the key', async () => {
  const token = await a.issuer.mint();
  const script = [
    'import os, sys, requests',
    'r = requests.get("https://api.datadoghq.com/api/v1/validate", headers={"DD-API-KEY": os.environ["AGENT_KEY"]}, timeout=20)',
    'print(r.status_code, r.text)',
  ].join('\n');
  const r = await run('/usr/bin/python3', ['-c', script], {
    env: { HTTPS_PROXY: `http://job:${token}@127.0.0.1:${a.port}`, REQUESTS_CA_BUNDLE: a.caPath, AGENT_KEY, NO_PROXY: '' },
  });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), '200 {"valid":true}');
  assertVaultedKeysOnly(lastReceived().rawHeaders);
});

test('undici ProxyAgent with a token option is accepted', async () => {
  const token = await a.issuer.mint();
  const dispatcher = new ProxyAgent({ uri: a.proxyUrl, token: `Bearer ${token}`, requestTls: { ca } });
  try {
    const res = await request('https://api.datadoghq.com/api/v1/validate', { dispatcher, headers: { 'dd-api-key': AGENT_KEY } });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(await res.body.json(), { valid: true });
  } finally {
    await dispatcher.close();
  }
  assertVaultedKeysOnly(lastReceived().rawHeaders);
});

test('the official Datadog client creates a dashboard with the job token as its API and application key', async () => {
  const token = await a.issuer.mint();
  const dispatcher = new ProxyAgent({ uri: a.proxyUrl, requestTls: { ca } });
  try {
    const configuration = client.createConfiguration({
      authMethods: { apiKeyAuth: token, appKeyAuth: token },
      // The client has no proxy support of its own; Node clients reach a proxy through undici.
      fetch: (url: string, init: Record<string, unknown>) => undiciFetch(url, { ...init, dispatcher }),
    });
    const api = new v1.DashboardsApi(configuration);
    const created = await api.createDashboard({
      body: { title: 'From the official client', layoutType: 'ordered', widgets: [{ definition: { type: 'note', content: 'hello' } }] },
    });
    assert.match(created.id ?? '', /^abc-def-/);
    assert.equal(created.title, 'From the official client');
  } finally {
    await dispatcher.close();
  }
  assertVaultedKeysOnly(lastReceived().rawHeaders);
});

test('every agent credential form is stripped: headers in any case and repeated, query parameters, and the /v1/input key', async () => {
  const token = await a.issuer.mint();
  const q = `api_key=${AGENT_KEY}&keep=1&Application_Key=${AGENT_KEY}&dd-api-key=${AGENT_KEY}&DD-APPLICATION-KEY=${AGENT_KEY}&api_key_id=gone&query=api_key`;
  const r = await curlVia(a, token, `https://api.datadoghq.com/api/v1/validate?${q}`, [
    '-o',
    '/dev/null',
    '-w',
    '%{http_code}',
    '-H',
    `Dd-Api-Key: ${AGENT_KEY}`,
    '-H',
    `DD-API-KEY: ${AGENT_KEY}x`,
    '-H',
    `dd-application-key: ${AGENT_KEY}`,
    '-H',
    `Authorization: Basic ${Buffer.from(`u:${AGENT_KEY}`).toString('base64')}`,
  ]);
  assert.equal(r.stdout, '200', r.stderr);
  assert.equal(lastReceived().path, '/api/v1/validate?keep=1&query=api_key');
  assertVaultedKeysOnly(lastReceived().rawHeaders);

  const r2 = await curlVia(a, token, `https://http-intake.logs.datadoghq.com/v1/input/${AGENT_KEY}?ddsource=ci`, [
    '-o',
    '/dev/null',
    '-w',
    '%{http_code}',
    '-H',
    'content-type: application/json',
    '-d',
    '{"message":"hi"}',
  ]);
  assert.equal(r2.stdout, '404', 'the fake answers 404 for the intake path, which proves the request got there');
  assert.equal(lastReceived().path, '/v1/input?ddsource=ci');
  assertVaultedKeysOnly(lastReceived().rawHeaders);
});

test('a client that cannot send proxy credentials puts the token in DD-API-KEY and is accepted', async () => {
  const token = await a.issuer.mint();
  const r = await curlVia(a, null, 'https://api.datadoghq.com/api/v1/validate', ['--fail-with-body', '-H', `DD-API-KEY: ${token}`]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assertVaultedKeysOnly(lastReceived().rawHeaders);
});

test('a plain-HTTP proxied request for Datadog goes upstream over TLS with the vaulted key', async () => {
  const token = await a.issuer.mint();
  const r = await run('curl', [
    '-sS',
    '--fail-with-body',
    '--proxy',
    a.proxyUrl,
    '--proxy-header',
    `Proxy-Authorization: Bearer ${token}`,
    'http://api.datadoghq.com/api/v1/validate',
  ]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.deepEqual(JSON.parse(r.stdout), { valid: true });
  assertVaultedKeysOnly(lastReceived().rawHeaders);
});

test('the process listens on its proxy port and its admin port and nothing else (no per-host or internal TLS listeners)', async () => {
  const token = await a.issuer.mint();
  for (const host of ['api.datadoghq.com', 'us3.datadoghq.com']) {
    await curlVia(a, token, `https://${host}/api/v1/validate`, ['-o', '/dev/null']);
  }
  const pid = a.child?.pid;
  assert.ok(pid);
  const r = await run('ss', ['-ltnpH']);
  assert.equal(r.code, 0, r.stderr);
  const mine = r.stdout.split('\n').filter((l) => l.includes(`pid=${pid},`));
  const adminLine = a.logs.find((l) => l.includes('admin listener (metrics, healthz, readyz) on'));
  const adminPort = Number(/"port":(\d+)/.exec(adminLine ?? '')?.[1]);
  assert.ok(adminPort > 0, 'the admin listener logged its port');
  const ports = mine.map((l) => Number(/127\.0\.0\.1:(\d+)\s/.exec(l)?.[1])).sort((x, y) => x - y);
  assert.deepEqual(
    ports,
    [a.port, adminPort].sort((x, y) => x - y),
    `listening sockets of airlock:\n${mine.join('\n')}`,
  );
});

test('a vault change reaches the running server within 2 s without a restart', async () => {
  const newKey = `ddapi${randomBytes(16).toString('hex')}`;
  a.datadog.apiKeys.add(newKey);
  const file = join(a.dir, 'rotated.key');
  writeFileSync(file, newKey, { mode: 0o600 });
  const put = await a.cli(['vault', 'put', 'dd-prod', '--api-key-file', file]);
  rmSync(file);
  assert.equal(put.code, 0, put.stderr);
  await new Promise((r) => setTimeout(r, 2_000));
  const token = await a.issuer.mint();
  const r = await curlVia(a, token, 'https://api.datadoghq.com/api/v1/validate', ['--fail-with-body']);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.equal(lastReceived().headers['dd-api-key'], newKey);
  assert.equal(lastReceived().headers['dd-application-key'], undefined, 'the new entry has no application key');
});

// The synchronous path through the pipeline (run-pipeline.ts): once a job's token is known (a
// cached JWT verdict, a session token) and its session is open, a request reaches the upstream in
// the same turn as it arrived: no await before the forward. Real parts: the identity resolver
// (RS256 tokens from an in-memory issuer), the session-token store, the session store and its
// journal on disk; the fake is Datadog (the UpstreamPort) and the client's socket.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Socket } from 'node:net';
import { createLogger } from '../../../appliance/log.js';
import { IdentityResolver, type IdentityRules } from '../../../appliance/identity/resolve-identity.js';
import { SessionIdentity } from '../../../appliance/identity/session-identity.js';
import { SessionTokens } from '../../../appliance/identity/session-tokens.js';
import { SessionStore } from '../../../appliance/recording/session/index.js';
import { Capture } from '../../../appliance/proxy/capture.js';
import { runPipeline } from '../../../appliance/pipeline/run-pipeline.js';
import type { Client, PipelineDeps, Target } from '../../../appliance/pipeline/exchange.js';
import type { UpstreamRequest, UpstreamResult } from '../../../appliance/pipeline/ports.js';
import { Clock, FakeIssuer, issuerConfig } from '../identity/fake-issuer.js';

const HOST = 'api.datadoghq.com';
const VAULTED = '0123456789abcdef0123456789abcdef';
const AGENT_KEY = 'fedcba9876543210fedcba9876543210';
const rules: IdentityRules = {
  issuers: [issuerConfig()],
  grants: [{ name: 'main', issuer: 'gh', claims: { repository_id: '123456' }, credential: 'dd-prod' }],
};

async function setup(t: { after: (fn: () => Promise<void>) => void }) {
  const dir = await mkdtemp(join(tmpdir(), 'airlock-sync-'));
  const clock = new Clock();
  const log = createLogger({ level: 'silent' });
  const issuer = await FakeIssuer.create(clock);
  const tokens = new SessionTokens({ file: join(dir, 'login-sessions.json'), ttlMs: 3_600_000, now: clock.now, log });
  await tokens.load();
  const identity = new SessionIdentity(new IdentityResolver(rules, { fetchJson: issuer.fetchJson, now: clock.now, log }), tokens, rules, { ambient: false });
  const sessions = new SessionStore({ sessionsDir: join(dir, 'sessions'), maxBodyBytes: 4096, idleTimeoutMs: 60_000, log, now: clock.now });
  t.after(async () => {
    await sessions.closeAll('test over');
    await rm(dir, { recursive: true, force: true });
  });
  // Datadog: answers every request with {} (one held chunk, no rest), and keeps what it was sent.
  const sent: UpstreamRequest[] = [];
  const upstream = {
    send(r: UpstreamRequest): Promise<UpstreamResult> {
      sent.push(r);
      r.body.resume();
      const requestBody = new Capture(4096);
      const timings = { blocked: 0, dns: -1, connect: -1, ssl: -1, send: 0, wait: 1, receive: 0 };
      const response = { status: 200, statusText: 'OK', httpVersion: 'HTTP/1.1', rawHeaders: ['Content-Type', 'application/json', 'Content-Length', '2'] };
      return Promise.resolve({
        ok: true,
        response: { ...response, requestBody, held: [Buffer.from('{}')], rest: null, timings, serverIPAddress: '127.0.0.1', serverPort: 443 },
      });
    },
  };
  const deps: PipelineDeps = {
    identity,
    sessions,
    vault: { get: (name) => (name === 'dd-prod' ? { apiKey: VAULTED } : undefined) },
    agentFor: () => new http.Agent(),
    maxBodyBytes: 4096,
    upstreamTimeoutMs: 1000,
    now: clock.now,
  };
  const target = (proxyAuthorization: string): Target => ({
    host: HOST,
    upstream,
    hostHeader: HOST,
    authority: { host: HOST, port: 443 },
    proxyAuthorization,
    log,
  });
  return { dir, clock, issuer, tokens, sessions, deps, target, sent };
}

/** A GET from an agent that sends a Datadog key of its own (it must be stripped); the answer's status, once given. */
function client(): { client: Client; answered: () => number | null; delivered: () => boolean } {
  const req = new http.IncomingMessage(new Socket());
  req.method = 'GET';
  req.httpVersion = '1.1';
  req.rawHeaders = ['Host', HOST, 'DD-API-KEY', AGENT_KEY];
  req.push(null);
  let answered: number | null = null;
  let delivered = false;
  return {
    client: {
      req,
      onClose: () => () => undefined,
      answer: (e) => (answered = e.status),
      drop: () => undefined,
      suspendTimers: () => () => undefined,
      deliver: () => {
        delivered = true;
        return Promise.resolve(2);
      },
      status: () => answered ?? 200,
    },
    answered: () => answered,
    delivered: () => delivered,
  };
}

const head = { method: 'GET', target: '/api/v1/validate', rawHeaders: ['Host', HOST, 'DD-API-KEY', AGENT_KEY] };
const headerCount = (r: UpstreamRequest, name: string): number => r.headers.filter((v, i) => i % 2 === 0 && v.toLowerCase() === name).length;
const injectedKey = (r: UpstreamRequest | undefined): string | undefined => {
  const h = r?.headers ?? [];
  const i = h.findIndex((v, k) => k % 2 === 0 && v.toLowerCase() === 'dd-api-key');
  return i < 0 ? undefined : h[i + 1];
};

async function journalLines(dir: string): Promise<Array<Record<string, unknown>>> {
  const name = (await readdir(join(dir, 'sessions'))).find((n) => n.endsWith('.jsonl'));
  assert.ok(name, 'a journal');
  const text = await readFile(join(dir, 'sessions', name), 'utf8');
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

test('a known JWT and an open session: the request is forwarded in the same turn, with the vaulted key, and both exchanges are journalled in order', async (t) => {
  const { dir, issuer, clock, deps, target, sent } = await setup(t);
  const jwt = await issuer.mint({ exp: Math.floor(clock.t / 1000) + 3600 });

  // First request: the token is verified (keys fetched) and the session opened: asynchronous.
  const first = client();
  const run1 = runPipeline(deps, target(`Bearer ${jwt}`), first.client, head);
  assert.equal(sent.length, 0, 'a first token is verified before anything is forwarded');
  await run1;
  assert.equal(sent.length, 1);
  assert.ok(first.delivered());

  // Second request, same token: nothing to wait for before the upstream write.
  const second = client();
  const run2 = runPipeline(deps, target(`Bearer ${jwt}`), second.client, head);
  assert.equal(sent.length, 2, 'forwarded before runPipeline returned: no await on the way');
  await run2;
  assert.ok(second.delivered());
  for (const r of sent) {
    assert.equal(injectedKey(r), VAULTED, 'the vaulted key, not the agent one');
    assert.ok(!r.headers.includes(AGENT_KEY));
    assert.equal(headerCount(r, 'dd-api-key'), 1);
    assert.equal(r.session, sent[0]?.session, 'one session');
  }

  // The journal holds both exchanges, each begun before it was recorded, in the order they came.
  const lines = await journalLines(dir);
  assert.deepEqual(
    lines.map((l) => l['type']),
    ['session', 'begin', 'exchange', 'begin', 'exchange'],
  );
  const ids = lines.filter((l) => l['type'] === 'exchange').map((l) => l['id']);
  assert.equal(new Set(ids).size, 2);
  assert.deepEqual(
    lines.filter((l) => l['type'] === 'begin').map((l) => l['id']),
    ids,
  );
  const text = JSON.stringify(lines);
  assert.ok(!text.includes(jwt) && !text.includes(VAULTED) && !text.includes(AGENT_KEY), 'no secret in the journal');

  // Past the token's exp the verdict is not reused: verified again (asynchronously) and refused.
  clock.advance(3600_000 + 120_000);
  const late = client();
  const run3 = runPipeline(deps, target(`Bearer ${jwt}`), late.client, head);
  await run3;
  assert.equal(sent.length, 2, 'an expired token is never forwarded');
  assert.equal(late.answered(), 403);
});

test('a session token: forwarded in the same turn while it is valid; once logged out it is refused and nothing is sent', async (t) => {
  const { tokens, deps, target, sent } = await setup(t);
  const issued = await tokens.issue({
    identity: { issuer: 'gh', iss: issuerConfig().issuer, sub: 'repo:acme/app', claims: { repository_id: '123456' }, grant: 'main', credential: 'dd-prod' },
    key: 'k',
    iss: issuerConfig().issuer,
    jti: 'j1',
    jtiUntil: Number.MAX_SAFE_INTEGER,
    bind: false,
  });
  await runPipeline(deps, target(`Bearer ${issued.token}`), client().client, head);
  assert.equal(sent.length, 1);
  const again = client();
  const run = runPipeline(deps, target(`Bearer ${issued.token}`), again.client, head);
  assert.equal(sent.length, 2, 'forwarded before runPipeline returned');
  await run;
  assert.equal(injectedKey(sent[1]), VAULTED);

  await tokens.revoke(issued.token);
  const out = client();
  await runPipeline(deps, target(`Bearer ${issued.token}`), out.client, head);
  assert.equal(sent.length, 2, 'a logged-out token is never forwarded');
  assert.equal(out.answered(), 403);
});

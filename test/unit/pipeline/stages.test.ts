// The pipeline's stages one by one: given the facts of an exchange, each returns the verdict.
// The request is a real http.IncomingMessage on an unconnected socket; nothing is listened on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { Socket } from 'node:net';
import { PassThrough } from 'node:stream';
import { AirlockError } from '../../../appliance/errors.js';
import { createLogger } from '../../../appliance/log.js';
import type { Identity } from '../../../appliance/identity/types.js';
import type { SessionMeta } from '../../../appliance/lib/exchange-types.js';
import type { Decision as PolicyDecision } from '../../../appliance/policy/decide.js';
import type { Arrived, Client, Identified, Stripped, Verdict } from '../../../appliance/pipeline/exchange.js';
import { heldAborted } from '../../../appliance/pipeline/refusal.js';
import { refusalEntry } from '../../../appliance/pipeline/refusal-entry.js';
import { requestLine } from '../../../appliance/pipeline/request-log-line.js';
import { DECISIONS, isDecision } from '../../../appliance/lib/decision.js';
import { parseRequest } from '../../../appliance/pipeline/1-parse-request.js';
import { openSession, resolveIdentity } from '../../../appliance/pipeline/2-resolve-identity.js';
import { stripCredentials } from '../../../appliance/pipeline/3-strip-credentials.js';
import { checkPolicy, policyOutcome } from '../../../appliance/pipeline/4-check-policy.js';
import { injectCredential } from '../../../appliance/pipeline/5-inject-credential.js';
import type { IdentityPort, SessionsPort } from '../../../appliance/pipeline/ports.js';

const HOST = 'api.datadoghq.com';
const KEY = '0123456789abcdef0123456789abcdef';
const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln';

function request(rawHeaders: string[], method = 'GET'): http.IncomingMessage {
  const req = new http.IncomingMessage(new Socket());
  req.method = method;
  req.httpVersion = '1.1';
  req.rawHeaders = rawHeaders;
  return req;
}

function arrived(rawHeaders: string[] = ['Host', HOST], method = 'GET'): Arrived {
  const req = request(rawHeaders, method);
  const client: Client = {
    req,
    onClose: () => () => undefined,
    answer: (e) => e.status,
    drop: () => undefined,
    suspendTimers: () => () => undefined,
    deliver: () => Promise.resolve(0),
    status: () => 0,
  };
  const log = createLogger({ destination: new PassThrough() });
  return {
    id: '00000000-0000-4000-8000-000000000000',
    started: 0,
    startedDateTime: new Date(0).toISOString(),
    httpVersion: 'HTTP/1.1',
    method,
    target: {
      host: HOST,
      upstream: { send: () => Promise.reject(new Error('these tests send nothing upstream')) },
      hostHeader: HOST,
      authority: { host: HOST, port: 443 },
      proxyAuthorization: undefined,
      log,
    },
    client,
    log,
    guard: undefined,
    secrets: [],
  };
}

const identity: Identity = {
  issuer: 'gh',
  iss: 'https://issuer',
  sub: 'repo:acme/app',
  claims: {},
  grant: 'ci',
  credential: 'prod',
  expiresAt: 0,
  auth: 'jwt',
};
const session: SessionMeta = {
  id: 's1',
  key: 'k',
  issuer: 'gh',
  iss: 'https://issuer',
  sub: 'repo:acme/app',
  grant: 'ci',
  credential: 'prod',
  claims: {},
  openedAt: new Date(0).toISOString(),
};

function identified(target: string, headers: string[] = ['Host', HOST]): Identified {
  const p = parseRequest(arrived(headers), { method: 'GET', target, rawHeaders: headers });
  return { ...p, identity, attribution: { issuer: 'gh', sub: identity.sub, auth: 'jwt' }, session };
}

function go<X>(v: Verdict<X>): X {
  assert.equal(v.kind, 'continue', v.kind === 'refuse' ? v.code : '');
  if (v.kind !== 'continue') throw new Error('refused');
  return v.x;
}

test('canonical stage: an unparseable request is not refused yet; its error waits for the identity stage', () => {
  const ok = parseRequest(arrived(), { method: 'GET', target: '/api/v1/validate?x=1', rawHeaders: ['Host', HOST] });
  assert.equal(ok.canon?.path, '/api/v1/validate');
  assert.equal(ok.unparsed, null);
  const bad = parseRequest(arrived(), { method: 'GET', target: 'ftp://api.datadoghq.com/x', rawHeaders: ['Host', HOST] });
  assert.equal(bad.canon, null);
  assert.equal(bad.unparsed?.code, 'BAD_REQUEST');
});

test('identity stage: no token is TOKEN_MISSING, a surprise is INTERNAL, neither recorded; a token becomes the first secret', async () => {
  const none: IdentityPort = { resolve: () => Promise.reject(new Error('unused')) };
  const p = parseRequest(arrived(), { method: 'GET', target: '/', rawHeaders: ['Host', HOST] });
  const missing = await resolveIdentity({ identity: none }, p);
  assert.ok(missing.kind === 'refuse');
  assert.deepEqual([missing.code, missing.status, missing.record, missing.decision], ['TOKEN_MISSING', 407, false, 'refused']);

  const headers = ['Host', HOST, 'DD-API-KEY', TOKEN];
  const withToken = parseRequest(arrived(headers), { method: 'GET', target: '/', rawHeaders: headers });
  const broken: IdentityPort = { resolve: () => Promise.reject(new TypeError('boom')) };
  const internal = await resolveIdentity({ identity: broken }, withToken);
  assert.ok(internal.kind === 'refuse');
  assert.equal(internal.code, 'INTERNAL');

  const good: IdentityPort = { resolve: (t) => (t === TOKEN ? Promise.resolve(identity) : Promise.reject(new AirlockError('TOKEN_INVALID'))) };
  const x = go(await resolveIdentity({ identity: good }, withToken));
  assert.equal(x.identity.grant, 'ci');
  assert.deepEqual(x.secrets[0], { value: TOKEN, label: 'identity token' });
  assert.equal(x.attribution['sub'], identity.sub);

  const closing: SessionsPort = {
    ensure: () => Promise.reject(new AirlockError('SHUTTING_DOWN')),
    begin: () => Promise.resolve(),
    record: () => Promise.resolve(),
  };
  const shut = await openSession({ sessions: closing }, x);
  assert.ok(shut.kind === 'refuse');
  assert.deepEqual([shut.code, shut.record], ['SHUTTING_DOWN', false]);
});

test('strip stage: gives the parse error of an unparseable request, else removes the agent key and names it a secret', () => {
  const bad = identified('ftp://api.datadoghq.com/x');
  const r = stripCredentials(bad);
  assert.ok(r.kind === 'refuse');
  assert.deepEqual([r.code, r.record, r.decision], ['BAD_REQUEST', true, 'refused']);

  const x = go(stripCredentials(identified(`/api/v1/series?api_key=${KEY}&from=1`)));
  assert.equal(x.stripped.path, '/api/v1/series?from=1');
  assert.equal(x.url, `https://${HOST}/api/v1/series?from=1`);
  assert.ok(x.stripped.stripped.includes('query:api_key'));
  assert.ok(x.secrets.some((s) => s.value === KEY && s.label === 'agent credential'));
});

test('policy stage: each decision of the policy becomes go (with its recorded decision), hold, or a POLICY_DENIED refusal', () => {
  const rule = { policy: 'p', rule: 2, action: 'deny', reason: 'no deletes' } as const;
  const d = (action: 'allow' | 'deny' | 'approve', enforced = true): PolicyDecision => ({ action, enforced, rule: { ...rule, action } });
  assert.deepEqual(policyOutcome(d('allow'), null), { kind: 'go', decision: 'forwarded', rule: { ...rule, action: 'allow' } });
  assert.equal((policyOutcome(d('deny', false), null) as { decision: string }).decision, 'report-deny');
  assert.equal((policyOutcome(d('approve', false), null) as { decision: string }).decision, 'report-approve');
  assert.equal(policyOutcome(d('approve'), null).kind, 'hold');
  const denied = policyOutcome(d('deny'), null);
  assert.ok(denied.kind === 'refuse');
  assert.deepEqual([denied.code, denied.status, denied.decision, denied.detail, denied.rule?.rule], ['POLICY_DENIED', 403, 'denied', 'no deletes', 2]);
  // A body a condition needed could not be read: a restricting rule refuses whatever the mode; allow still goes.
  const unreadable = policyOutcome(d('approve', false), 'too large');
  assert.ok(unreadable.kind === 'refuse');
  assert.equal(unreadable.decision, 'denied');
  assert.equal(policyOutcome(d('allow'), 'too large').kind, 'go');
});

test('inject stage: a missing vault entry is CREDENTIAL_MISSING; else the vaulted key, Host and framing are set and the key is the first secret', () => {
  const s = go(stripCredentials(identified('/api/v1/validate', ['Host', HOST, 'DD-API-KEY', KEY, 'Accept', '*/*'])));
  const x = { ...s, body: s.client.req, decision: 'forwarded' as const };
  const missing = injectCredential({ vault: { get: () => undefined } }, x);
  assert.ok(missing.kind === 'refuse');
  assert.deepEqual([missing.code, missing.status, missing.record], ['CREDENTIAL_MISSING', 503, true]);
  const vaulted = 'fedcba9876543210fedcba9876543210';
  const i = go(injectCredential({ vault: { get: () => ({ apiKey: vaulted }) } }, x));
  assert.deepEqual(i.injected, ['header:dd-api-key']);
  assert.deepEqual([...i.headers], ['Accept', '*/*', 'DD-API-KEY', vaulted, 'host', HOST]);
  assert.deepEqual(i.secrets[0], { value: vaulted, label: 'credential prod api key' });
});

test('one exchange object is carried: a stage adds its fields only on its way to continue, and a synchronous stage returns no promise', () => {
  const s = go(stripCredentials(identified('/api/v1/validate', ['Host', HOST, 'Accept', '*/*'])));
  const policed = checkPolicy(
    { sessions: { ensure: () => Promise.reject(new Error('unused')), begin: () => Promise.resolve(), record: () => Promise.resolve() }, maxBodyBytes: 1024 },
    s,
  );
  assert.ok(!(policed instanceof Promise));
  const g = go(policed);
  assert.equal(g, s);
  assert.equal(g.decision, 'forwarded');
  const missing = injectCredential({ vault: { get: () => undefined } }, g);
  assert.equal(missing.kind, 'refuse');
  assert.ok(!('headers' in g) && !('entry' in g) && !('injected' in g));
  assert.equal(g.secrets.length, 0);
  const i = go(injectCredential({ vault: { get: () => ({ apiKey: 'fedcba9876543210fedcba9876543210' }) } }, g));
  assert.equal(i, s);
  assert.deepEqual([...i.headers], ['Accept', '*/*', 'DD-API-KEY', 'fedcba9876543210fedcba9876543210', 'host', HOST]);
});

test('a refusal is recorded with the answer the client got and what the earlier stages established', () => {
  const s: Stripped = go(stripCredentials(identified(`/api/v1/series?api_key=${KEY}`)));
  const r = policyOutcome({ action: 'deny', enforced: true, rule: { policy: 'p', rule: 1, action: 'deny' } }, null);
  assert.ok(r.kind === 'refuse');
  const e = refusalEntry(s, r);
  assert.equal(e.response?.status, 403);
  assert.equal(e.request.url, `https://${HOST}/api/v1/series`);
  assert.equal(e.airlock.forwarded, false);
  assert.deepEqual([e.airlock.decision, e.airlock.code, e.airlock.session, e.airlock.grant], ['denied', 'POLICY_DENIED', 's1', 'ci']);
  assert.deepEqual(e.airlock.stripped, ['query:api_key']);
  assert.equal(e.error, undefined);

  const aborted = refusalEntry(s, heldAborted('the client closed the connection', { policy: 'p', rule: 1, action: 'approve' }));
  assert.equal(aborted.response, null);
  assert.equal(aborted.error, 'held-then-aborted: the client closed the connection');
  assert.deepEqual([aborted.airlock.decision, aborted.airlock.code], ['aborted', 'HELD_ABORTED']);

  // Before the strip stage (an unparseable request): no target and no header is recorded.
  const unparsed = identified('ftp://api.datadoghq.com/x?api_key=' + KEY);
  const u = stripCredentials(unparsed);
  assert.ok(u.kind === 'refuse');
  const ue = refusalEntry(unparsed, u);
  assert.equal(ue.request.url, `https://${HOST}/`);
  assert.deepEqual(ue.request.headers, []);
});

test('the request log line: `session` names the session, the path has no query and no secret, and only a stripped target is logged', () => {
  const line = requestLine({
    method: 'POST',
    host: HOST,
    stripped: `/v1/check/agentsecretvalue123/${TOKEN}?a=b`,
    decision: 'forwarded',
    status: 202,
    who: { session: 's1', sub: 'repo:acme/app', grant: 'ci', identity: { auth: 'jwt' } },
    secrets: [{ value: 'agentsecretvalue123', label: 'agent credential' }],
  });
  assert.equal(line.session, 's1');
  assert.ok(!('sessionId' in line));
  assert.equal(line.path, '/v1/check/[redacted:agent credential]/[redacted:jwt]');
  const early = requestLine({ method: 'GET', host: HOST, decision: 'refused', status: 421, code: 'HOST_MISMATCH', reason: 'connected to x' });
  assert.equal(early.path, undefined);
  assert.deepEqual([early.code, early.reason, early.status], ['HOST_MISMATCH', 'connected to x', 421]);
});

test('decisions read back from disk: only the ten known values are decisions', () => {
  assert.equal(DECISIONS.length, 10);
  assert.ok(DECISIONS.every(isDecision));
  assert.ok(!isDecision('held') && !isDecision('tunnel') && !isDecision(undefined));
});

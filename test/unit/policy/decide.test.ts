import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compilePolicy, UNRESTRICTED, type PolicyInput } from '../../../appliance/policy/compile-policy.js';
import { decide, needsBody } from '../../../appliance/policy/decide.js';
import { compileMatch, matches, normalizePath, PatternError } from '../../../appliance/lib/match-pattern.js';
import { policySchema } from '../../../appliance/config/policy-schema.js';

const SEED: PolicyInput = policySchema.parse({
  default: 'deny',
  rules: [
    { match: 'GET *', action: 'allow' },
    { match: 'POST /api/v1/dashboard', action: 'allow' },
    { match: 'PUT /api/v1/dashboard/*', action: 'allow' },
    { match: 'DELETE /api/v1/dashboard/*', action: 'approve' },
    { match: '* /api/v1/monitor/**', action: 'deny', reason: 'monitors are owned by the SRE team' },
  ],
});
const seed = compilePolicy('dashboards-writer', SEED);
const req = (method: string, path: string, host = 'api.datadoghq.com') => ({ method, host, path });

test('`*` matches exactly one path segment, never zero and never two', () => {
  const m = compileMatch('PUT /api/v1/dashboard/*');
  assert.ok(matches(m, { method: 'PUT', host: 'h', path: '/api/v1/dashboard/abc' }));
  assert.ok(!matches(m, { method: 'PUT', host: 'h', path: '/api/v1/dashboard' }));
  assert.ok(!matches(m, { method: 'PUT', host: 'h', path: '/api/v1/dashboard/abc/widgets' }));
});

test('`**` matches any number of segments, zero included', () => {
  const m = compileMatch('* /api/v1/monitor/**');
  for (const p of ['/api/v1/monitor', '/api/v1/monitor/1', '/api/v1/monitor/1/mute/x']) assert.ok(matches(m, { method: 'GET', host: 'h', path: p }), p);
  assert.ok(!matches(m, { method: 'GET', host: 'h', path: '/api/v1/monitors' }));
});

test('a bare `*` target matches every path and host', () => {
  const m = compileMatch('GET *');
  assert.ok(matches(m, { method: 'GET', host: 'h', path: '/api/v1/monitor/1' }));
  assert.ok(matches(m, { method: 'GET', host: 'h', path: '/' }));
});

test('a method pattern is exact (case-insensitive) and `*` is any method', () => {
  assert.ok(matches(compileMatch('post /a'), { method: 'POST', host: 'h', path: '/a' }));
  assert.ok(!matches(compileMatch('POST /a'), { method: 'PUT', host: 'h', path: '/a' }));
  assert.ok(matches(compileMatch('* /a'), { method: 'PATCH', host: 'h', path: '/a' }));
});

test('a HOST/PATH pattern matches only that host; `*` in a host is one label', () => {
  const m = compileMatch('POST http-intake.logs.*.com/api/v2/logs');
  assert.ok(matches(m, { method: 'POST', host: 'http-intake.logs.datadoghq.com', path: '/api/v2/logs' }));
  assert.ok(!matches(m, { method: 'POST', host: 'api.datadoghq.com', path: '/api/v2/logs' }));
  assert.ok(!matches(m, { method: 'POST', host: 'http-intake.logs.us3.datadoghq.com', path: '/api/v2/logs' }));
});

test('bad patterns are refused at compile time with a reason', () => {
  for (const bad of ['/api', 'GET', 'G3T /a', 'GET /a/**b', 'GET /a?x=1', 'GET ho$t/a']) assert.throws(() => compileMatch(bad), PatternError, bad);
});

test('paths are normalized before matching: query, percent-encoding, dot segments, repeated and trailing slashes', () => {
  assert.equal(normalizePath('/api/v1/%61pi_key?x=1'), '/api/v1/api_key');
  assert.equal(normalizePath('//api//v2/x/../api_keys/'), '/api/v2/api_keys');
  assert.equal(normalizePath('/a/%zz'), null);
  // Read as a separator here but not upstream: no view of such a path (the pipeline refuses it).
  assert.equal(normalizePath('/api/v2%2Fapi_keys'), null);
  assert.equal(normalizePath('/api/v2%5capi_keys'), null);
});

test('the seed policy: first match wins, in order, then the default denies', () => {
  assert.equal(decide(req('GET', '/api/v1/monitor/1'), seed).action, 'allow', 'GET * comes before the monitor deny');
  assert.equal(decide(req('POST', '/api/v1/dashboard'), seed).action, 'allow');
  assert.equal(decide(req('PUT', '/api/v1/dashboard/abc-def-001'), seed).action, 'allow');
  const del = decide(req('DELETE', '/api/v1/dashboard/abc-def-001'), seed);
  assert.deepEqual([del.action, del.rule.rule], ['approve', 4]);
  const mon = decide(req('PUT', '/api/v1/monitor/5'), seed);
  assert.deepEqual([mon.action, mon.rule.rule, mon.rule.reason], ['deny', 5, 'monitors are owned by the SRE team']);
  const other = decide(req('POST', '/api/v1/series'), seed);
  assert.deepEqual([other.action, other.rule.rule], ['deny', 'default']);
});

test('key-management endpoints are denied before any rule, even a GET * allow, unless allowKeyManagement', () => {
  for (const p of [
    '/api/v1/api_key',
    '/api/v1/api_key/abc',
    '/api/v1/application_key/x',
    '/api/v2/api_keys',
    '/api/v2/api_keys/1',
    '/api/v2/application_keys',
    '/api/v2/current_user/application_keys/1',
    '/api/v2/service_accounts/sa1/application_keys',
    '/API/V2/API_KEYS',
    '/api/v1/%61pi_key',
  ]) {
    const d = decide(req('GET', p), seed);
    assert.deepEqual([d.action, d.rule.rule, d.enforced], ['deny', 'key-management', true], p);
  }
  const open = compilePolicy('keys', { ...SEED, allowKeyManagement: true });
  assert.equal(decide(req('GET', '/api/v2/api_keys'), open).action, 'allow');
  assert.equal(decide(req('GET', '/api/v2/api_keys'), UNRESTRICTED).action, 'deny', 'a grant without a policy still cannot read keys');
  assert.equal(decide(req('POST', '/api/v1/series'), UNRESTRICTED).action, 'allow');
});

test('report mode on a policy or on one rule makes its denial unenforced; key management stays enforced', () => {
  const pol = compilePolicy('r', policySchema.parse({ mode: 'report', rules: [{ match: 'DELETE /**', action: 'deny' }] }));
  assert.deepEqual([decide(req('DELETE', '/x'), pol).action, decide(req('DELETE', '/x'), pol).enforced], ['deny', false]);
  assert.equal(decide(req('GET', '/x'), pol).enforced, false, 'the default inherits the policy mode');
  assert.equal(decide(req('GET', '/api/v2/api_keys'), pol).enforced, true);
  const one = compilePolicy('o', policySchema.parse({ rules: [{ match: 'DELETE /**', action: 'deny', mode: 'report' }] }));
  assert.equal(decide(req('DELETE', '/x'), one).enforced, false);
  assert.equal(decide(req('GET', '/x'), one).enforced, true);
});

const WHEN = compilePolicy(
  'w',
  policySchema.parse({
    default: 'allow',
    rules: [
      { match: 'PUT /api/v1/monitor/*', action: 'deny', reason: 'no silencing', when: [{ path: '$.options.silenced', exists: true }] },
      { match: 'POST /api/v1/dashboard', action: 'approve', when: [{ path: '$.widgets.length', gt: 2 }] },
      { match: 'POST /api/v1/events', action: 'allow', when: [{ path: '$.priority', equals: 'low' }] },
      { match: 'POST /api/v1/events', action: 'deny' },
    ],
  }),
);
const json = (value: unknown) => ({ state: 'json' as const, value });

test('when: conditions decide on the JSON body: exists, gt on an array length, equals', () => {
  assert.equal(decide({ ...req('PUT', '/api/v1/monitor/1'), body: json({ options: { silenced: {} } }) }, WHEN).action, 'deny');
  assert.equal(decide({ ...req('PUT', '/api/v1/monitor/1'), body: json({ options: {} }) }, WHEN).action, 'allow');
  assert.equal(decide({ ...req('POST', '/api/v1/dashboard'), body: json({ widgets: [1, 2, 3] }) }, WHEN).action, 'approve');
  assert.equal(decide({ ...req('POST', '/api/v1/dashboard'), body: json({ widgets: [1] }) }, WHEN).action, 'allow');
  assert.equal(decide({ ...req('POST', '/api/v1/events'), body: json({ priority: 'low' }) }, WHEN).action, 'allow');
  assert.equal(decide({ ...req('POST', '/api/v1/events'), body: json({ priority: 'normal' }) }, WHEN).action, 'deny');
});

test('an unreadable body makes a restrictive when: rule apply and a permissive one not (fail closed)', () => {
  const unreadable = { state: 'unreadable' as const, reason: 'the body is not JSON' };
  const d = decide({ ...req('PUT', '/api/v1/monitor/1'), body: unreadable }, WHEN);
  assert.equal(d.action, 'deny');
  assert.match(d.rule.reason ?? '', /could not be checked: the body is not JSON/);
  assert.equal(decide({ ...req('POST', '/api/v1/events'), body: unreadable }, WHEN).action, 'deny', 'the allow-when is skipped, the next rule denies');
});

test('needsBody is true only when the first pattern-matching rule has when:', () => {
  assert.equal(needsBody(req('PUT', '/api/v1/monitor/1'), WHEN), true);
  assert.equal(needsBody(req('GET', '/api/v1/monitor/1'), WHEN), false);
  assert.equal(needsBody(req('PUT', '/api/v1/dashboard/1'), seed), false);
});

test('the config schema refuses a bad match, a bad JSON path and a condition without an operator', () => {
  assert.equal(policySchema.safeParse({ rules: [{ match: 'GETT', action: 'allow' }] }).success, false);
  assert.equal(policySchema.safeParse({ rules: [{ match: 'GET /a', action: 'allow', when: [{ path: 'options', exists: true }] }] }).success, false);
  assert.equal(policySchema.safeParse({ rules: [{ match: 'GET /a', action: 'allow', when: [{ path: '$.a' }] }] }).success, false);
  assert.equal(policySchema.safeParse({ rules: [{ match: 'GET /a', action: 'maybe' }] }).success, false);
});

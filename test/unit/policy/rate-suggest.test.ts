import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RateLimiter } from '../../../appliance/policy/rate-limiter.js';
import { suggestRules } from '../../../appliance/policy/suggest-policy.js';
import { compilePolicy } from '../../../appliance/policy/compile-policy.js';
import { decide } from '../../../appliance/policy/decide.js';

test('the token bucket allows a burst, then refuses with Retry-After until it refills', () => {
  let t = 0;
  const rl = new RateLimiter(() => t);
  const b = { perSecond: 2, burst: 3 };
  for (let i = 0; i < 3; i++) assert.deepEqual(rl.take('s', b), { ok: true });
  assert.deepEqual(rl.take('s', b), { ok: false, retryAfterSeconds: 1 });
  assert.deepEqual(rl.take('other', b), { ok: true }, 'buckets are per session');
  t += 500;
  assert.deepEqual(rl.take('s', b), { ok: true });
  assert.equal(rl.take('s', b).ok, false);
});

test('suggested rules allow exactly the requests a session made, with IDs generalized, and nothing else', () => {
  const seen = [
    { method: 'GET', url: 'https://api.datadoghq.com/api/v1/validate' },
    { method: 'POST', url: 'https://api.datadoghq.com/api/v1/dashboard' },
    { method: 'PUT', url: 'https://api.datadoghq.com/api/v1/dashboard/abc-def-001' },
    { method: 'PUT', url: 'https://api.datadoghq.com/api/v1/dashboard/abc-def-002?x=1' },
  ];
  const rules = suggestRules(seen);
  assert.deepEqual(
    rules.map((r) => r.match),
    ['GET /api/v1/validate', 'POST /api/v1/dashboard', 'PUT /api/v1/dashboard/*'],
  );
  const p = compilePolicy('s', { default: 'deny', mode: 'enforce', allowKeyManagement: false, rules });
  for (const s of seen) {
    const u = new URL(s.url);
    assert.equal(decide({ method: s.method, host: u.hostname, path: u.pathname + u.search }, p).action, 'allow', s.url);
  }
  for (const [m, path] of [
    ['DELETE', '/api/v1/dashboard/abc-def-001'],
    ['GET', '/api/v1/dashboard'],
    ['POST', '/api/v1/monitor'],
  ] as const) {
    assert.equal(decide({ method: m, host: 'api.datadoghq.com', path }, p).action, 'deny', `${m} ${path}`);
  }
});

test('a session across hosts gets HOST/PATH rules so that nothing widens to the other host', () => {
  const rules = suggestRules([
    { method: 'POST', url: 'https://http-intake.logs.datadoghq.com/api/v2/logs' },
    { method: 'GET', url: 'https://api.datadoghq.com/api/v1/validate' },
  ]);
  assert.deepEqual(
    rules.map((r) => r.match),
    ['GET api.datadoghq.com/api/v1/validate', 'POST http-intake.logs.datadoghq.com/api/v2/logs'],
  );
});

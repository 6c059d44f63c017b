import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sessionKey } from '../../../appliance/identity/session-key.js';
import type { Identity } from '../../../appliance/identity/types.js';

const id = (sub: string, claims: Record<string, unknown>): Identity => ({
  issuer: 'gh',
  iss: 'https://i',
  sub,
  claims,
  grant: 'g',
  credential: 'c',
  expiresAt: 0,
});

test('the session key holds issuer, grant, sub, run_id and run_attempt', () => {
  assert.equal(sessionKey(id('s', { run_id: '1001', run_attempt: 2 })), '["gh","g","s",["run_id","1001"],["run_attempt","2"]]');
});

test('a new run attempt gets a different session key', () => {
  assert.notEqual(sessionKey(id('s', { run_id: '1', run_attempt: '1' })), sessionKey(id('s', { run_id: '1', run_attempt: '2' })));
});

test('without run claims the key is issuer, grant and sub', () => {
  assert.equal(sessionKey(id('s', {})), '["gh","g","s"]');
});

test('separator characters in claims cannot make two identities collide', () => {
  assert.notEqual(sessionKey(id('a|b', { run_id: 'c' })), sessionKey(id('a', { run_id: 'b|c' })));
  assert.notEqual(sessionKey(id('a","b', {})), sessionKey(id('a', { run_id: 'b' })));
});

test('object and array run claims are keyed by their content, not "[object Object]"', () => {
  const a = sessionKey(id('s', { run_id: { job: 'build', n: 1 } }));
  const b = sessionKey(id('s', { run_id: { job: 'deploy', n: 1 } }));
  assert.notEqual(a, b, 'different object claims, different sessions');
  assert.equal(sessionKey(id('s', { run_id: { n: 1, job: 'build' } })), a, 'equal objects (key order aside), one session');
  assert.notEqual(sessionKey(id('s', { run_attempt: [1, 2] })), sessionKey(id('s', { run_attempt: [1, 3] })));
  assert.equal(sessionKey(id('s', { run_attempt: [1, [2]] })), sessionKey(id('s', { run_attempt: [1, [2]] })));
});

test('an object claim cannot collide with a string claim holding its JSON or "[object Object]"', () => {
  const obj = sessionKey(id('s', { run_id: { a: 1 } }));
  assert.notEqual(obj, sessionKey(id('s', { run_id: '{"a":1}' })));
  assert.notEqual(obj, sessionKey(id('s', { run_id: '[object Object]' })));
  assert.notEqual(sessionKey(id('s', { run_id: true })), sessionKey(id('s', { run_id: 'true' })));
});

test('a claim nested too deep to encode gets a key shared with no other identity, and no throw', () => {
  const deep = (): unknown => JSON.parse('['.repeat(20000) + ']'.repeat(20000)) as unknown;
  const a = sessionKey(id('s', { run_id: deep() }));
  const b = sessionKey(id('s', { run_id: deep() }));
  assert.notEqual(a, b);
  assert.notEqual(a, sessionKey(id('s', {})));
});

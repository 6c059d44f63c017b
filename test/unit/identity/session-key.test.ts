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

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { GrantConfig } from '../../../appliance/config/schema.js';
import { globToRegExp, matchGrant } from '../../../appliance/identity/match-grant.js';

const g = (name: string, claims: Record<string, string>, issuer = 'gh'): GrantConfig => ({ name, issuer, claims, credential: `cred-${name}` });
const claims = { sub: 'repo:acme/app:ref:refs/heads/main', repository: 'acme/app', repository_id: 123456, ref: 'refs/heads/main', aud: ['a', 'b'] };

test('an exact claim match selects the grant', () => {
  assert.equal(matchGrant([g('a', { repository: 'acme/app' })], 'gh', claims)?.name, 'a');
});

test('an exact match is not a prefix or substring match', () => {
  assert.equal(matchGrant([g('a', { repository: 'acme/ap' })], 'gh', claims), null);
  assert.equal(matchGrant([g('a', { repository: 'acme/app2' })], 'gh', { repository: 'acme/app' }), null);
});

test('a value without glob: is literal, so * matches only itself', () => {
  assert.equal(matchGrant([g('a', { repository: 'acme/*' })], 'gh', claims), null);
  assert.equal(matchGrant([g('a', { repository: 'acme/*' })], 'gh', { repository: 'acme/*' })?.name, 'a');
});

test('a glob * matches within one path segment', () => {
  assert.equal(matchGrant([g('a', { ref: 'glob:refs/heads/*' })], 'gh', claims)?.name, 'a');
  assert.equal(matchGrant([g('a', { sub: 'glob:repo:acme/*:ref:refs/heads/*' })], 'gh', claims)?.name, 'a');
});

test('a glob * never matches across /', () => {
  assert.equal(matchGrant([g('a', { ref: 'glob:refs/heads/*' })], 'gh', { ref: 'refs/heads/feature/x' }), null);
  assert.equal(matchGrant([g('a', { sub: 'glob:repo:acme/*' })], 'gh', { sub: 'repo:acme/app/evil' }), null);
  assert.equal(matchGrant([g('a', { repository: 'glob:*' })], 'gh', { repository: 'acme/app' }), null);
});

test('glob patterns are anchored and regex characters in them are literal', () => {
  assert.equal(globToRegExp('a.b*').test('axbc'), false);
  assert.equal(globToRegExp('a.b*').test('a.bc'), true);
  assert.equal(globToRegExp('(x)+*').test('(x)+y'), true);
  assert.equal(globToRegExp('main').test('xmainx'), false);
  assert.equal(matchGrant([g('a', { ref: 'glob:refs/heads/ma*' })], 'gh', { ref: 'xrefs/heads/main' }), null);
});

test('a claim the grant names but the token lacks means no match', () => {
  assert.equal(matchGrant([g('a', { environment: 'prod' })], 'gh', claims), null);
  assert.equal(matchGrant([g('a', { environment: 'glob:*' })], 'gh', claims), null);
});

test('inherited object properties are not claims', () => {
  assert.equal(matchGrant([g('a', { constructor: 'glob:*' })], 'gh', {}), null);
});

test('the first matching grant wins', () => {
  const grants = [g('narrow', { repository: 'acme/other' }), g('first', { repository: 'acme/app' }), g('second', {})];
  assert.equal(matchGrant(grants, 'gh', claims)?.name, 'first');
});

test('a grant for another issuer never matches', () => {
  assert.equal(matchGrant([g('a', { repository: 'acme/app' }, 'gitlab')], 'gh', claims), null);
  assert.equal(matchGrant([g('a', {}, 'gitlab'), g('b', {})], 'gh', claims)?.name, 'b');
});

test('a numeric or boolean claim compares as its string', () => {
  assert.equal(matchGrant([g('a', { repository_id: '123456' })], 'gh', claims)?.name, 'a');
  assert.equal(matchGrant([g('a', { ref_protected: 'true' })], 'gh', { ref_protected: true })?.name, 'a');
  assert.equal(matchGrant([g('a', { repository_id: '12345' })], 'gh', claims), null);
});

test('an array or object claim never matches', () => {
  assert.equal(matchGrant([g('a', { aud: 'a,b' })], 'gh', claims), null);
  assert.equal(matchGrant([g('a', { x: 'glob:*' })], 'gh', { x: { y: 1 } }), null);
});

test('a grant with no claims matches every token of its issuer', () => {
  assert.equal(matchGrant([g('any', {})], 'gh', {})?.name, 'any');
});

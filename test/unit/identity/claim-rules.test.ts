import { test } from 'node:test';
import assert from 'node:assert/strict';
import { claimMatches, ruleProblem } from '../../../appliance/lib/claim-rules.js';
import { explainGrants, matchGrant } from '../../../appliance/identity/match-grant.js';
import type { GrantConfig } from '../../../appliance/config/schema.js';

test('exact is the default: a value with * is compared literally unless written as glob:', () => {
  assert.equal(claimMatches('refs/heads/*', 'refs/heads/main'), false);
  assert.equal(claimMatches('refs/heads/*', 'refs/heads/*'), true);
  assert.equal(claimMatches('glob:refs/heads/*', 'refs/heads/main'), true);
});

test('glob * never crosses a slash', () => {
  assert.equal(claimMatches('glob:acme/*', 'acme/app'), true);
  assert.equal(claimMatches('glob:acme/*', 'acme/app/evil'), false);
  assert.equal(claimMatches('glob:refs/heads/*', 'refs/heads/feature/x'), false);
});

test('regex: is always anchored, so a prefix or suffix match is refused', () => {
  assert.equal(claimMatches('regex:acme/(app|api)', 'acme/api'), true);
  assert.equal(claimMatches('regex:acme/(app|api)', 'evil-acme/api'), false);
  assert.equal(claimMatches('regex:acme/(app|api)', 'acme/api-evil'), false);
  assert.equal(claimMatches('regex:a|b', 'xb'), false, 'alternation cannot escape the anchors');
});

test('a list means any of its rules', () => {
  assert.equal(claimMatches(['push', 'workflow_dispatch'], 'workflow_dispatch'), true);
  assert.equal(claimMatches(['push', 'glob:release-*'], 'release-1'), true);
  assert.equal(claimMatches(['push', 'workflow_dispatch'], 'pull_request_target'), false);
});

test('values compare as strings; arrays and objects never match', () => {
  assert.equal(claimMatches('123456', 123456), true);
  assert.equal(claimMatches('true', true), true);
  assert.equal(claimMatches('123456', ['123456']), false);
  assert.equal(claimMatches('x', { x: 1 }), false);
});

test('a bad regex is reported when the config loads', () => {
  assert.match(ruleProblem('regex:(') ?? '', /bad regex/);
  assert.equal(ruleProblem('regex:ok'), null);
  assert.equal(ruleProblem('(not a regex, exact)'), null);
});

const grants: GrantConfig[] = [
  { name: 'other-issuer', issuer: 'gl', claims: { project_id: '1' }, credential: 'a' },
  { name: 'by-id', issuer: 'gh', claims: { repository: 'acme/app', repository_id: '123456' }, credential: 'b' },
];

test('a repository name that matches with another repository_id gets no grant; the miss names repository_id', () => {
  const claims = { repository: 'acme/app', repository_id: '999' };
  assert.equal(matchGrant(grants, 'gh', claims), null);
  const v = explainGrants(grants, 'gh', claims);
  assert.equal(v.matched, null);
  assert.deepEqual(
    v.misses.map((m) => [m.grant, m.claim, m.actual]),
    [
      ['other-issuer', 'issuer', 'gh'],
      ['by-id', 'repository_id', '999'],
    ],
  );
});

test('a claim the grant names but the token lacks is a miss', () => {
  const v = explainGrants(grants, 'gh', { repository: 'acme/app' });
  assert.equal(v.misses[1]?.claim, 'repository_id');
  assert.equal(v.misses[1]?.actual, undefined);
});

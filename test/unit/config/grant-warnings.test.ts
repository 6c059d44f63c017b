import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../../appliance/config/load-config.js';
import { grantWarnings } from '../../../appliance/config/grant-warnings.js';

const warn = (issuer: Record<string, unknown>, claims: Record<string, unknown>): string[] =>
  grantWarnings(
    parseConfig({ identity: { issuers: [{ name: 'i', audience: 'a', ...issuer }], grants: [{ name: 'g', issuer: 'i', credential: 'c', claims }] } }),
  ).map((w) => w.path);

test('GitHub: names without ids, no repository pin, and ref without event_name each warn', () => {
  assert.deepEqual(warn({ preset: 'github' }, { repository: 'a/b' }), ['identity.grants[0].claims.repository']);
  assert.deepEqual(warn({ preset: 'github' }, { repository_owner: 'a' }), ['identity.grants[0].claims.repository_owner']);
  assert.deepEqual(warn({ preset: 'github' }, { ref: 'refs/heads/main', event_name: 'push' }), ['identity.grants[0].claims']);
  assert.deepEqual(warn({ preset: 'github' }, { repository_id: '1', ref: 'refs/heads/main' }), ['identity.grants[0].claims.ref']);
  assert.deepEqual(warn({ preset: 'github' }, { repository_id: 'glob:*' }), ['identity.grants[0].claims'], 'a match-anything rule pins nothing');
  assert.deepEqual(warn({ preset: 'github' }, { repository_id: '1', repository: 'a/b', ref: 'refs/heads/main', event_name: ['push'] }), []);
});

test('GitLab: project_path without project_id warns; a generic issuer draws no CI-specific warnings', () => {
  assert.deepEqual(warn({ preset: 'gitlab' }, { project_path: 'g/p' }), ['identity.grants[0].claims.project_path']);
  assert.deepEqual(warn({ preset: 'gitlab' }, { project_id: '42' }), []);
  assert.deepEqual(warn({ issuer: 'https://idp.example.com' }, {}), []);
});

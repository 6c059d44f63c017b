import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../../appliance/config/load-config.js';

const bus = { type: 'redis', url: 'redis://127.0.0.1:6379' };
const console_ = {
  publicUrl: 'https://approvals.example.com',
  tls: { certFile: '/c', keyFile: '/k' },
  oidc: { issuer: 'https://login.example.com', clientId: 'airlock-console' },
  approvers: { groups: ['sre'] },
};
const problems = (cfg: Record<string, unknown>): string => {
  try {
    parseConfig(cfg);
    return '';
  } catch (err) {
    return (err as Error).message;
  }
};

test('a console with a bus, https and approvers is accepted with its defaults', () => {
  const c = parseConfig({ approvals: { bus }, console: console_ });
  assert.equal(c.approvals.bus?.keyPrefix, 'airlock:');
  assert.equal(c.console?.approvers.groupsClaim, 'groups');
  assert.equal(c.console?.oidc.scopes, 'openid email profile groups');
  assert.equal(c.console?.sessionTtl, 8 * 3600_000);
});

test('the console config refuses what would be unsafe or could not work: no bus, plain http off loopback, https without tls, no approvers, a password in the Redis URL', () => {
  assert.match(problems({ console: console_ }), /approvals\.bus/);
  assert.match(problems({ approvals: { bus }, console: { ...console_, publicUrl: 'http://approvals.example.com' } }), /https/);
  assert.equal(problems({ approvals: { bus }, console: { ...console_, publicUrl: 'http://127.0.0.1:8080', tls: undefined } }), '', 'plain http on loopback');
  assert.match(problems({ approvals: { bus }, console: { ...console_, tls: undefined } }), /console\.tls/);
  assert.match(problems({ approvals: { bus }, console: { ...console_, approvers: {} } }), /approver/);
  assert.match(problems({ approvals: { bus: { ...bus, url: 'redis://:hunter2@127.0.0.1:6379' } } }), /passwordFile/);
  assert.ok(!problems({ approvals: { bus: { ...bus, url: 'redis://:hunter2@127.0.0.1:6379' } } }).includes('hunter2'), 'the password is not echoed');
});

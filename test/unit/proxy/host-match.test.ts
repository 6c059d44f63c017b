import { test } from 'node:test';
import assert from 'node:assert/strict';
import { interceptRules, isIntercepted, normalizeHost, permittedDomains, splitHostPort } from '../../../appliance/config/host-match.js';

const rules = interceptRules({ datadogSites: ['datadoghq.com', 'datadoghq.eu'], hosts: ['api.example.test', '*.corp.test'] });

test('a Datadog site intercepts the site, api.<site> and every intake host under it', () => {
  for (const h of ['datadoghq.com', 'api.datadoghq.com', 'http-intake.logs.datadoghq.com', 'trace.agent.datadoghq.eu']) {
    assert.equal(isIntercepted(rules, h), true, h);
  }
});

test('hostnames compare lower-cased with a trailing dot dropped', () => {
  assert.equal(normalizeHost('API.DataDogHQ.com.'), 'api.datadoghq.com');
  assert.equal(isIntercepted(rules, 'API.DATADOGHQ.COM.'), true);
});

test('look-alike hosts are not intercepted', () => {
  for (const h of ['evildatadoghq.com', 'datadoghq.com.evil.test', 'api.example.test.evil', 'corp.test.evil', 'example.test']) {
    assert.equal(isIntercepted(rules, h), false, h);
  }
});

test('extra hosts match exactly, and "*.suffix" matches the suffix and its subdomains', () => {
  assert.equal(isIntercepted(rules, 'api.example.test'), true);
  assert.equal(isIntercepted(rules, 'www.example.test'), false);
  assert.equal(isIntercepted(rules, 'a.b.corp.test'), true);
});

test('the CA must permit every site, suffix and exact host', () => {
  assert.deepEqual(permittedDomains({ datadogSites: ['datadoghq.com'], hosts: ['*.corp.test', 'x.test'] }).sort(), ['corp.test', 'datadoghq.com', 'x.test']);
});

test('a site already under another permitted site adds no name constraint of its own', () => {
  assert.deepEqual(permittedDomains({ datadogSites: ['datadoghq.com', 'us3.datadoghq.com', 'datadoghq.eu'], hosts: ['api.datadoghq.eu', 'x.test'] }), [
    'datadoghq.com',
    'datadoghq.eu',
    'x.test',
  ]);
});

test('CONNECT targets and Host headers split into host and port, with IPv6 and defaults', () => {
  assert.deepEqual(splitHostPort('api.datadoghq.com:443', 80), { host: 'api.datadoghq.com', port: 443 });
  assert.deepEqual(splitHostPort('api.datadoghq.com', 443), { host: 'api.datadoghq.com', port: 443 });
  assert.deepEqual(splitHostPort('[::1]:8443', 443), { host: '::1', port: 8443 });
  for (const bad of ['', ':443', 'host:0', 'host:99999', 'a b:1', 'host:12:13', 'api..datadoghq.com:443', '.datadoghq.com:443', 'api.datadoghq.com..:443'])
    assert.equal(splitHostPort(bad, 443), null, bad);
});

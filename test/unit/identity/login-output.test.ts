import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatGithubEnv, formatSh, loginEnv } from '../../../appliance/commands/login-output.js';

test('sh output exports the proxy with the token as password, the stand-ins as the Datadog keys, NODE_USE_ENV_PROXY, and the CA for every client', () => {
  const t = 'alk_' + 'a'.repeat(43);
  const apiKey = '0123456789abcdef'.repeat(2);
  const appKey = '0123456789'.repeat(4);
  const sh = formatSh(loginEnv(new URL('http://127.0.0.1:3128'), { token: t, apiKey, appKey }, "/tmp/it's/ca.pem"));
  assert.match(sh, new RegExp(`^export HTTPS_PROXY='http://airlock:${t}@127\\.0\\.0\\.1:3128'$`, 'm'));
  assert.match(sh, /^export https_proxy=/m);
  assert.match(sh, /^export NODE_USE_ENV_PROXY='1'$/m);
  assert.match(sh, new RegExp(`^export DD_API_KEY='${apiKey}'$`, 'm'));
  assert.match(sh, new RegExp(`^export DD_APP_KEY='${appKey}'$`, 'm'));
  for (const k of ['NODE_EXTRA_CA_CERTS', 'REQUESTS_CA_BUNDLE', 'SSL_CERT_FILE', 'CURL_CA_BUNDLE']) {
    assert.match(sh, new RegExp(`^export ${k}='/tmp/it'\\\\''s/ca\\.pem'$`, 'm'), `${k} is shell-quoted`);
  }
  assert.match(sh, new RegExp(`^export AIRLOCK_SESSION_TOKEN='${t}'$`, 'm'));
});

test('github-env output refuses a value with a newline (it would inject another variable)', () => {
  assert.throws(() => formatGithubEnv([['X', 'a\nEVIL=1']]), /newline/);
  assert.equal(
    formatGithubEnv([
      ['A', '1'],
      ['B', '2'],
    ]),
    'A=1\nB=2\n',
  );
});

test('an older server that sends no stand-ins still gets the token as both Datadog keys', () => {
  const t = 'alk_' + 'b'.repeat(43);
  const env = Object.fromEntries(loginEnv(new URL('http://127.0.0.1:3128'), { token: t }, '/ca.pem'));
  assert.equal(env['DD_API_KEY'], t);
  assert.equal(env['DD_APP_KEY'], t);
});

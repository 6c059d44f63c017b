import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatGithubEnv, formatSh, loginEnv } from '../../../appliance/commands/login-output.js';

test('sh output exports the proxy with the token as password, the token as both Datadog keys, and the CA for every client', () => {
  const t = 'alk_' + 'a'.repeat(43);
  const sh = formatSh(loginEnv(new URL('http://127.0.0.1:3128'), t, "/tmp/it's/ca.pem"));
  assert.match(sh, new RegExp(`^export HTTPS_PROXY='http://airlock:${t}@127\\.0\\.0\\.1:3128'$`, 'm'));
  assert.match(sh, /^export https_proxy=/m);
  assert.match(sh, new RegExp(`^export DD_API_KEY='${t}'$`, 'm'));
  assert.match(sh, new RegExp(`^export DD_APP_KEY='${t}'$`, 'm'));
  for (const k of ['NODE_EXTRA_CA_CERTS', 'REQUESTS_CA_BUNDLE', 'SSL_CERT_FILE', 'CURL_CA_BUNDLE']) {
    assert.match(sh, new RegExp(`^export ${k}='/tmp/it'\\\\''s/ca\\.pem'$`, 'm'), `${k} is shell-quoted`);
  }
  assert.match(sh, new RegExp(`^export AIRLOCK_SESSION_TOKEN='${t}'$`, 'm'));
});

test('github-env output refuses a value with a newline (it would inject another variable)', () => {
  assert.throws(() => formatGithubEnv([['X', 'a\nEVIL=1']]), /newline/);
  assert.equal(formatGithubEnv([['A', '1'], ['B', '2']]), 'A=1\nB=2\n');
});

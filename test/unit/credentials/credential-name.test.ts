import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compactName, isCredentialCookie, isCredentialHeader, isCredentialParam } from '../../../appliance/secrets/credential-name.js';

test('a compacted name is lower case letters and digits only', () => {
  assert.equal(compactName('X-Datadog_Api.Key[]\0 +'), 'xdatadogapikey');
});

test('header names holding apikey, appkey or applicationkey in any spelling are credentials', () => {
  for (const n of [
    'DD-API-KEY',
    'dd_api_key',
    'DD.API.KEY',
    'X-Datadog-Api-Key',
    'ApiKey',
    'x-api-key',
    'DD-APPLICATION-KEY',
    'Dd_Application_Key',
    'X-App-Key',
    'ddappkey',
    'Authorization',
    'proxy-authorization',
    'PROXY_AUTHORIZATION',
  ]) {
    assert.equal(isCredentialHeader(n), true, n);
  }
});

test('header names that only resemble a credential are not', () => {
  for (const n of ['X-Authorization-Mode', 'Authorization-Info', 'dd-api', 'Api', 'Key', 'X-Api-Version', 'X-Application', 'Content-Type', 'Cookie']) {
    assert.equal(isCredentialHeader(n), false, n);
  }
});

test('query names are percent-decoded, + is a space, and brackets, NUL and separators do not count', () => {
  for (const n of [
    'api_key',
    'api_key[]',
    'api_key%00',
    'api_key+',
    'apikey',
    '?api_key',
    'API-KEY',
    'dd-api-key',
    'api%5Fkey',
    'api%5Bkey%5D',
    '%61pi_key',
    'application_key',
    'app.key',
    'a%20pi%20key',
  ]) {
    assert.equal(isCredentialParam(n), true, n);
  }
});

test('query names without a key word, or with a malformed escape that hides none, are not credentials', () => {
  for (const n of ['query', 'key', 'api', 'app', 'keyapi', 'api%ZZkey', '%E0%A4%A', '']) {
    assert.equal(isCredentialParam(n), false, n);
  }
});

test('cookie names follow the same rule without percent-decoding', () => {
  assert.equal(isCredentialCookie('dd_api_key'), true);
  assert.equal(isCredentialCookie('session'), false);
});

test('header verdicts stay right when asked again and after more distinct names than the verdict cache holds', () => {
  for (let round = 0; round < 2; round++) {
    assert.equal(isCredentialHeader('DD-API-KEY'), true);
    assert.equal(isCredentialHeader('X-Request-Id'), false);
    for (let i = 0; i < 1200; i++) {
      assert.equal(isCredentialHeader(`x-${i}-api_key`), true);
      assert.equal(isCredentialHeader(`x-${i}-trace`), false);
    }
    assert.equal(isCredentialHeader('proxy-authorization'), true);
    assert.equal(isCredentialHeader('x-authorization-mode'), false);
  }
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stripAgentCredentials } from '../../../appliance/credentials/strip-agent-credentials.js';

const base = ['Host', 'api.datadoghq.com', 'Content-Type', 'application/json'];

test('a DD-API-KEY header in any case, repeated, is stripped and listed with every value', () => {
  const r = stripAgentCredentials({
    path: '/api/v1/validate',
    rawHeaders: ['DD-API-KEY', 'k1', ...base, 'dd-api-key', 'k2', 'Dd-Api-Key', 'k3', 'dD-aPi-KeY', 'k4'],
  });
  assert.deepEqual(r.rawHeaders, base);
  assert.deepEqual(r.stripped, ['header:dd-api-key']);
  assert.deepEqual(r.removedValues, ['k1', 'k2', 'k3', 'k4']);
  assert.equal(r.path, '/api/v1/validate');
});

test('DD-APPLICATION-KEY, Authorization and Proxy-Authorization in any case are stripped and listed', () => {
  const r = stripAgentCredentials({
    path: '/',
    rawHeaders: [
      'DD-APPLICATION-KEY',
      'app1',
      'authorization',
      'Bearer tok1',
      'Host',
      'h',
      'AUTHORIZATION',
      'Bearer tok2',
      'dd-application-key',
      'app2',
      'Proxy-Authorization',
      'Bearer jwt1',
      'proxy-authorization',
      'Bearer jwt2',
    ],
  });
  assert.deepEqual(r.rawHeaders, ['Host', 'h']);
  assert.deepEqual(r.stripped, ['header:dd-application-key', 'header:authorization', 'header:proxy-authorization']);
  for (const v of ['app1', 'app2', 'Bearer tok1', 'tok1', 'Bearer tok2', 'tok2', 'Bearer jwt1', 'jwt1', 'jwt2']) {
    assert.ok(r.removedValues.includes(v), `removedValues lacks ${v}`);
  }
});

test('underscore spellings of the key headers are stripped too', () => {
  const r = stripAgentCredentials({ path: '/', rawHeaders: ['DD_API_KEY', 'k', 'dd_application_key', 'a', ...base] });
  assert.deepEqual(r.rawHeaders, base);
  assert.deepEqual(r.stripped, ['header:dd-api-key', 'header:dd-application-key']);
  assert.deepEqual(r.removedValues, ['k', 'a']);
});

test('a Basic Proxy-Authorization lists the header, the base64 pair, the pair and the password', () => {
  const cred = Buffer.from('x:the.jwt.value').toString('base64');
  const r = stripAgentCredentials({ path: '/', rawHeaders: ['Proxy-Authorization', `Basic ${cred}`] });
  assert.deepEqual(r.rawHeaders, []);
  assert.deepEqual(r.removedValues, [`Basic ${cred}`, cred, 'x:the.jwt.value', 'the.jwt.value']);
});

test('headers whose name only resembles a credential survive, in order and case', () => {
  const keep = ['X-Authorization-Mode', 'c', 'dd-api', 'd', 'X-Api-Version', 'e', 'Key', 'f', 'X-App', 'g'];
  const r = stripAgentCredentials({ path: '/', rawHeaders: keep });
  assert.deepEqual(r.rawHeaders, keep);
  assert.deepEqual(r.stripped, []);
  assert.deepEqual(r.removedValues, []);
});

test('any header whose compacted name holds apikey, appkey or applicationkey is stripped and labelled by its name', () => {
  const r = stripAgentCredentials({
    path: '/',
    rawHeaders: [
      'X-Datadog-Api-Key',
      'k1',
      'ApiKey',
      'k2',
      'DD.API.KEY',
      'k3',
      'Dd_Application_Key',
      'k4',
      'X-DD-API-KEY-ID',
      'k5',
      'x-app-key',
      'k6',
      ...base,
    ],
  });
  assert.deepEqual(r.rawHeaders, base);
  assert.deepEqual(r.stripped, [
    'header:x-datadog-api-key',
    'header:apikey',
    'header:dd.api.key',
    'header:dd-application-key',
    'header:x-dd-api-key-id',
    'header:x-app-key',
  ]);
  assert.deepEqual(r.removedValues, ['k1', 'k2', 'k3', 'k4', 'k5', 'k6']);
});

test('a key-shaped run in a stripped header name is not copied into its label', () => {
  const key = '0123456789abcdef0123456789abcdef';
  const r = stripAgentCredentials({ path: '/', rawHeaders: [`X-Api-Key-${key}`, 'v'] });
  assert.deepEqual(r.stripped, ['header:x-api-key-[key-shaped]']);
});

test('cookies named like a credential are dropped from the Cookie header and the others kept as written', () => {
  const r = stripAgentCredentials({ path: '/', rawHeaders: ['Cookie', 'a=1; dd_api_key=K1; b=2;DD-APPLICATION-KEY=K2', 'Host', 'h'] });
  assert.deepEqual(r.rawHeaders, ['Cookie', 'a=1; b=2', 'Host', 'h']);
  assert.deepEqual(r.stripped, ['cookie:dd_api_key', 'cookie:dd-application-key']);
  assert.deepEqual(r.removedValues, ['K1', 'K2']);
});

test('a Cookie header holding only credential cookies is dropped; one without any is untouched', () => {
  const gone = stripAgentCredentials({ path: '/', rawHeaders: ['cookie', ' apikey=K ', 'Cookie', 'session=abc;  theme=dark'] });
  assert.deepEqual(gone.rawHeaders, ['Cookie', 'session=abc;  theme=dark']);
  assert.deepEqual(gone.stripped, ['cookie:apikey']);
  assert.deepEqual(gone.removedValues, ['K']);
});

test('every key query parameter in any case, repeated, is stripped and the rest kept in order', () => {
  const r = stripAgentCredentials({
    path: '/api/v1/series?a=1&api_key=K1&API_KEY=K2&b=2&Application_Key=A1&dd-api-key=D1&DD-API-KEY=D2&dd-application-key=DA1&Dd-Application-Key=DA2&c=3',
    rawHeaders: base,
  });
  assert.equal(r.path, '/api/v1/series?a=1&b=2&c=3');
  assert.deepEqual(r.stripped, ['query:api_key', 'query:application_key', 'query:dd-api-key', 'query:dd-application-key']);
  assert.deepEqual(r.removedValues, ['K1', 'K2', 'A1', 'D1', 'D2', 'DA1', 'DA2']);
  assert.deepEqual(r.rawHeaders, base);
});

test('parameters whose name only resembles a credential, and a key word in a value, survive byte-for-byte', () => {
  const path = '/api/v1/query?query=api_key&key=x&api=y&app=z&q=avg%3Asystem.cpu%7Bhost%3Aa%20b%7D+x&from=1&x=%E2%9C%93';
  const r = stripAgentCredentials({ path, rawHeaders: [] });
  assert.equal(r.path, path);
  assert.deepEqual(r.stripped, []);
});

test('query names are judged decoded, without brackets, NUL, separators or case; the label shows the name as written', () => {
  const r = stripAgentCredentials({
    path: '/p??api_key=K0&a=1&api_key[]=K1&api_key%00=K2&api_key+=K3&apikey=K4&API-KEY=K5&dd.app.key=K6&api_key_id=K7&my_api_key=K8&b=2',
    rawHeaders: [],
  });
  assert.equal(r.path, '/p?a=1&b=2');
  assert.deepEqual(r.stripped, [
    'query:?api_key',
    'query:api_key[]',
    'query:api_key%00',
    'query:api_key+',
    'query:apikey',
    'query:api_key',
    'query:dd.app.key',
    'query:api_key_id',
    'query:my_api_key',
  ]);
  assert.deepEqual(r.removedValues, ['K0', 'K1', 'K2', 'K3', 'K4', 'K5', 'K6', 'K7', 'K8']);
});

test('a percent-encoded bracket or NUL in a query name cannot hide it', () => {
  const r = stripAgentCredentials({ path: '/p?api_key%5B%5D=K1&%61pi%2Dkey=K2&x=1', rawHeaders: [] });
  assert.equal(r.path, '/p?x=1');
  assert.deepEqual(r.removedValues, ['K1', 'K2']);
});

test('encoded characters and odd separators around a stripped parameter are preserved', () => {
  const r = stripAgentCredentials({ path: '/p?q=a%2Bb%26c&&api_key=K&empty=&flag&tags=env%3Aprod,team:x', rawHeaders: [] });
  assert.equal(r.path, '/p?q=a%2Bb%26c&&empty=&flag&tags=env%3Aprod,team:x');
});

test('a percent-encoded key parameter name is still recognised, and both value forms are listed', () => {
  const r = stripAgentCredentials({ path: '/p?x=1&api%5Fkey=a%2Fb&dd%2Dapi%2Dkey=c', rawHeaders: [] });
  assert.equal(r.path, '/p?x=1');
  assert.deepEqual(r.removedValues, ['a%2Fb', 'a/b', 'c']);
});

test('a key parameter after a semicolon is stripped and the semicolon form kept elsewhere', () => {
  const r = stripAgentCredentials({ path: '/p?a=1;api_key=K;b=2', rawHeaders: [] });
  assert.equal(r.path, '/p?a=1;b=2');
  assert.deepEqual(r.removedValues, ['K']);
});

test('a query holding only keys disappears with its question mark; an empty value is not listed', () => {
  const r = stripAgentCredentials({ path: '/api/v1/validate?api_key=K&application_key=', rawHeaders: [] });
  assert.equal(r.path, '/api/v1/validate');
  assert.deepEqual(r.removedValues, ['K']);
  assert.deepEqual(r.stripped, ['query:api_key', 'query:application_key']);
});

test('a key parameter without "=" is stripped', () => {
  const r = stripAgentCredentials({ path: '/p?api_key&b=2', rawHeaders: [] });
  assert.equal(r.path, '/p?b=2');
  assert.deepEqual(r.stripped, ['query:api_key']);
});

test('an empty query is left alone', () => {
  assert.equal(stripAgentCredentials({ path: '/p?', rawHeaders: [] }).path, '/p?');
});

test('the legacy /v1/input/<key> path loses its key segment', () => {
  const r = stripAgentCredentials({ path: '/v1/input/abcdef0123456789', rawHeaders: [] });
  assert.equal(r.path, '/v1/input');
  assert.deepEqual(r.stripped, ['path:/v1/input key']);
  assert.deepEqual(r.removedValues, ['abcdef0123456789']);
});

test('the legacy /v1/input/<key> path with a query keeps the query but not a key in it', () => {
  const r = stripAgentCredentials({ path: '/v1/input/KEY%2B1?ddsource=ci&ddtags=a%3Ab&dd-api-key=Q', rawHeaders: [] });
  assert.equal(r.path, '/v1/input?ddsource=ci&ddtags=a%3Ab');
  assert.deepEqual(r.stripped, ['path:/v1/input key', 'query:dd-api-key']);
  assert.deepEqual(r.removedValues, ['KEY%2B1', 'KEY+1', 'Q']);
});

test('the /v1/input path without a key, and other /v1 paths, are unchanged', () => {
  for (const path of ['/v1/input', '/v1/input?x=1', '/v1/input/', '/api/v1/input/abc', '/v1/inputs/abc']) {
    const r = stripAgentCredentials({ path, rawHeaders: [] });
    assert.equal(r.path, path);
    assert.deepEqual(r.stripped, []);
  }
});

test('an absolute-form request target keeps its origin while keys are stripped', () => {
  const r = stripAgentCredentials({ path: 'https://http-intake.logs.datadoghq.com/v1/input/KEY?api_key=K2&x=1', rawHeaders: [] });
  assert.equal(r.path, 'https://http-intake.logs.datadoghq.com/v1/input?x=1');
  assert.deepEqual(r.removedValues, ['KEY', 'K2']);
});

test('the input is not modified', () => {
  const rawHeaders = Object.freeze(['DD-API-KEY', 'k', 'Host', 'h']);
  const r = stripAgentCredentials({ path: '/p?api_key=k', rawHeaders });
  assert.deepEqual(rawHeaders, ['DD-API-KEY', 'k', 'Host', 'h']);
  assert.notEqual(r.rawHeaders, rawHeaders);
});

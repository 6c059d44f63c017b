import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalRequest } from '../../../appliance/pipeline/canonical-request.js';
import { canonicalPath, PathError } from '../../../appliance/pipeline/canonical-path.js';
import { AirlockError } from '../../../appliance/errors.js';

const TUNNEL = { host: 'api.datadoghq.com', port: 443 };
const HOST = ['Host', 'api.datadoghq.com'];
const parse = (target: string, rawHeaders: string[] = HOST, method = 'GET') => canonicalRequest({ method, target, rawHeaders }, TUNNEL);
const refusedWith = (code: string, fn: () => unknown): void => {
  assert.throws(fn, (err: unknown) => err instanceof AirlockError && err.code === code);
};

test('canonicalPath resolves dot segments (also %2E ones), collapses slashes and decodes unreserved escapes', () => {
  assert.equal(canonicalPath('//v1/input/K'), '/v1/input/K');
  assert.equal(canonicalPath('/v1/./input/K'), '/v1/input/K');
  assert.equal(canonicalPath('/v1//input/K'), '/v1/input/K');
  assert.equal(canonicalPath('/v1/%2e/input/K'), '/v1/input/K');
  assert.equal(canonicalPath('/v1/x/%2E%2e/input'), '/v1/input');
  assert.equal(canonicalPath('/v1/%69nput'), '/v1/input');
  assert.equal(canonicalPath('/a/b/'), '/a/b/');
  assert.equal(canonicalPath('/a/b/.'), '/a/b/');
  assert.equal(canonicalPath('/'), '/');
  assert.equal(canonicalPath('//'), '/');
});

test('canonicalPath keeps what Datadog paths hold: escaped colons (upper-cased hex), ";", "~", "%25"', () => {
  assert.equal(canonicalPath('/api/v1/metrics/system.cpu%3auser'), '/api/v1/metrics/system.cpu%3Auser');
  assert.equal(canonicalPath('/api/v1/query;x=1'), '/api/v1/query;x=1');
  assert.equal(canonicalPath('/a/~b/%25'), '/a/~b/%25');
});

test('canonicalPath refuses what has no single meaning: %2F, %5C, backslash, NUL/control, broken escapes, ".." above root', () => {
  for (const p of [
    '/v1/input%2FK',
    '/v1/input%2fK',
    '/a%5Cb',
    '/a\\b',
    '/a/%00',
    '/a/%1f',
    '/a/%7F',
    '/a/%zz',
    '/a/%4',
    '/..',
    '/a/../..',
    '/a#b',
    'a/b',
    '/a b',
    '/\u00e9',
  ]) {
    assert.throws(() => canonicalPath(p), PathError, p);
  }
});

test('absolute-form for the tunnel host, any scheme case, becomes origin-form; userinfo is stripped and named', () => {
  assert.equal(parse('https://api.datadoghq.com/api/v2/api_keys').target, '/api/v2/api_keys');
  assert.equal(parse('HTTPS://API.DATADOGHQ.COM./api/v2/api_keys?x=1').target, '/api/v2/api_keys?x=1');
  assert.equal(parse('https://api.datadoghq.com:443').target, '/');
  const u = parse('https://user:s3cret@api.datadoghq.com/v1/x');
  assert.equal(u.target, '/v1/x');
  assert.deepEqual(u.stripped, ['url:userinfo']);
  assert.ok(u.removedValues.includes('user:s3cret') && u.removedValues.includes('s3cret'));
});

test('absolute-form for another authority is HOST_MISMATCH; other targets are BAD_REQUEST', () => {
  refusedWith('HOST_MISMATCH', () => parse('https://evil.example/api'));
  refusedWith('HOST_MISMATCH', () => parse('https://api.datadoghq.com:8443/api'));
  refusedWith('HOST_MISMATCH', () => parse('http://api.datadoghq.com/api'));
  refusedWith('BAD_REQUEST', () => parse('*', HOST, 'OPTIONS'));
  refusedWith('BAD_REQUEST', () => parse('api.datadoghq.com:443'));
  refusedWith('BAD_REQUEST', () => parse('ftp://api.datadoghq.com/x'));
});

test('the plain listener authority (the URL host on port 80) is accepted for http://', () => {
  const c = canonicalRequest({ method: 'GET', target: 'http://api.datadoghq.com/v1/x', rawHeaders: [] }, { host: 'api.datadoghq.com', port: 80 });
  assert.equal(c.target, '/v1/x');
});

test('framing: Content-Length, exactly chunked, or none; CL with TE, other codings, duplicate Host are refused', () => {
  assert.deepEqual(parse('/x', [...HOST, 'Content-Length', '12']).framing, { kind: 'length', length: 12 });
  assert.deepEqual(parse('/x', [...HOST, 'Transfer-Encoding', 'Chunked']).framing, { kind: 'chunked' });
  assert.deepEqual(parse('/x').framing, { kind: 'none' });
  refusedWith('BAD_REQUEST', () => parse('/x', [...HOST, 'Transfer-Encoding', 'gzip, chunked']));
  refusedWith('BAD_REQUEST', () => parse('/x', [...HOST, 'Transfer-Encoding', 'chunked', 'Content-Length', '3']));
  refusedWith('BAD_REQUEST', () => parse('/x', [...HOST, 'Content-Length', '3', 'Content-Length', '3']));
  refusedWith('BAD_REQUEST', () => parse('/x', [...HOST, 'Host', 'api.datadoghq.com']));
  refusedWith('BAD_REQUEST', () => parse('/x', []));
  refusedWith('HOST_MISMATCH', () => parse('/x', ['Host', 'evil.example']));
});

test("headers: hop-by-hop and Connection-nominated ones go; Host and framing are never the client's", () => {
  const c = parse('/x', [
    ...HOST,
    'Connection',
    'content-length, x-a, keep-alive',
    'Content-Length',
    '3',
    'X-A',
    '1',
    'X-B',
    '2',
    'Keep-Alive',
    'timeout=5',
    'Proxy-Authorization',
    'Bearer t',
  ]);
  assert.deepEqual(c.headers, ['X-B', '2']);
  assert.deepEqual(c.framing, { kind: 'length', length: 3 });
  assert.ok(Object.isFrozen(c) && Object.isFrozen(c.headers));
});

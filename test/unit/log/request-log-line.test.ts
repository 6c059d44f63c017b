// The request log line's fields, values and key order (docs/errors.md "The request log"): the
// line is built by assignment for speed, and must come out as it always did.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { requestLine } from '../../../appliance/pipeline/request-log-line.js';

const who = { session: 's1', sub: 'repo:acme/app', grant: 'ci', identity: { issuer: 'https://issuer.example', auth: 'jwt' } };

test('every field, in the documented order', () => {
  const line = requestLine({
    method: 'POST',
    host: 'api.datadoghq.com',
    stripped: '/api/v1/series?x=1',
    decision: 'forwarded',
    status: 202,
    code: 'SOME_CODE',
    reason: 'told',
    who,
    bytesIn: 10,
    bytesOut: 20,
    durationMs: 1.5,
  });
  assert.deepEqual(Object.entries(line), [
    ['session', 's1'],
    ['sub', 'repo:acme/app'],
    ['grant', 'ci'],
    ['identity', who.identity],
    ['method', 'POST'],
    ['host', 'api.datadoghq.com'],
    ['path', '/api/v1/series'],
    ['status', 202],
    ['bytesIn', 10],
    ['bytesOut', 20],
    ['durationMs', 1.5],
    ['decision', 'forwarded'],
    ['code', 'SOME_CODE'],
    ['reason', 'told'],
  ]);
});

test('absent facts leave their keys out; no session id leaves only session out', () => {
  assert.deepEqual(Object.keys(requestLine({ method: undefined, host: 'h', decision: 'refused', status: 421 })), ['method', 'host', 'status', 'decision']);
  assert.equal(requestLine({ method: undefined, host: 'h', decision: 'refused', status: 0 }).method, 'GET');
  const noSession = requestLine({ method: 'GET', host: 'h', decision: 'refused', status: 401, who: { ...who, session: undefined } });
  assert.deepEqual(Object.keys(noSession), ['sub', 'grant', 'identity', 'method', 'host', 'status', 'decision']);
});

test('the path: scheme and authority of an absolute-form target and the query are dropped, an empty path is /, secrets are redacted', () => {
  const path = (stripped: string): string | undefined => requestLine({ method: 'GET', host: 'h', stripped, decision: 'forwarded', status: 200 }).path;
  assert.equal(path('https://api.datadoghq.com:443/api/v1/validate?api_key=x'), '/api/v1/validate');
  assert.equal(path('http://api.datadoghq.com'), '/');
  assert.equal(path('http://api.datadoghq.com?q=1'), '/');
  assert.equal(path('?q=1'), '/');
  assert.equal(path(''), '/');
  assert.equal(path('/a?b?c'), '/a');
  assert.equal(path('//evil.example/x'), '//evil.example/x');
  const secret = requestLine({
    method: 'GET',
    host: 'h',
    stripped: 'https://h/v1/agentsecretvalue123/0123456789abcdef0123456789abcdef',
    decision: 'forwarded',
    status: 200,
    secrets: [{ value: 'agentsecretvalue123', label: 'agent credential' }],
  });
  assert.equal(secret.path, '/v1/[redacted:agent credential]/[redacted:key-shaped value]');
});

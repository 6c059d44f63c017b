import { test } from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import { buildHarEntry, buildNoResponseEntry, NO_RESPONSE_ERROR } from '../../../appliance/recording/har/index.js';
import { type JournalExchangeLine, toJournalExchange } from '../../../appliance/recording/journal/index.js';
import { prepareSecrets } from '../../../appliance/secrets/redact.js';
import type { Exchange } from '../../../appliance/lib/exchange-types.js';
import { validateHar } from '../../fixtures/har-validate.js';
import { body, exchange, gzipResponse, SECRETS } from './exchange-fixtures.js';

const limits = { maxDecodedBytes: 1024 * 1024 };
const line = (ex: Exchange): JournalExchangeLine => JSON.parse(JSON.stringify(toJournalExchange(ex, prepareSecrets(SECRETS), limits))) as JournalExchangeLine;
const entry = (ex: Exchange) => buildHarEntry(line(ex));
const asHar = (entries: unknown[]) => ({ log: { version: '1.2', creator: { name: 'airlock', version: 't' }, pages: [], entries } });

test('a JSON POST becomes a fetch entry with real timings, sizes, postData and the airlock decision', () => {
  const e = entry(exchange({}));
  assert.equal(e._resourceType, 'fetch');
  assert.deepEqual(e.cache, {});
  assert.deepEqual(e.timings, { blocked: 0.5, dns: -1, connect: 12, ssl: 8, send: 0.2, wait: 30.5, receive: 1.3 });
  assert.equal(e.time, 44.5, 'time sums the non-negative phases, ssl being part of connect');
  assert.equal(e.serverIPAddress, '127.0.0.1');
  assert.equal(e.connection, '443');
  const reqBlock =
    'POST /api/v2/series HTTP/1.1\r\n' +
    'Host: api.datadoghq.com\r\nContent-Type: application/json\r\n' +
    'DD-API-KEY: 0123456789abcdef0123456789abcdef\r\n\r\n';
  assert.equal(e.request.headersSize, Buffer.byteLength(reqBlock), 'headersSize counts the unredacted header block');
  assert.equal(e.request.bodySize, 51);
  assert.deepEqual(e.request.postData, { mimeType: 'application/json', text: '{"series":[{"metric":"ci.build","points":[[1,2]]}]}' });
  assert.equal(e.response.status, 202);
  assert.equal(e.response.headersSize, Buffer.byteLength('HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\n\r\n'));
  assert.deepEqual(e.response.content, { size: 13, mimeType: 'application/json', text: '{"errors":[]}' });
  assert.equal(e.response.bodySize, 13);
  assert.equal(e._airlock.decision, 'forwarded');
  assert.deepEqual(e._airlock.stripped, ['header:dd-api-key']);
  assert.equal(e._airlock.grant, 'ci-metrics');
  assert.equal(e.comment, undefined);
  assert.deepEqual(validateHar(asHar([e])), []);
});

test('query parameters are listed decoded and the URL loses its fragment', () => {
  const e = entry(exchange({ method: 'GET', url: 'https://api.datadoghq.com/api/v1/query?from=1&query=avg%3Acpu#frag', reqBody: null }));
  assert.equal(e.request.url, 'https://api.datadoghq.com/api/v1/query?from=1&query=avg%3Acpu');
  assert.deepEqual(e.request.queryString, [
    { name: 'from', value: '1' },
    { name: 'query', value: 'avg:cpu' },
  ]);
  assert.equal(e.request.bodySize, 0);
  assert.equal(e.request.postData, undefined);
});

test('a gzip response is decoded into content.text with size, bodySize and compression', () => {
  const json = JSON.stringify({ data: Array.from({ length: 50 }, (_, i) => ({ id: i, name: 'monitor' })) });
  const ex = exchange({ response: gzipResponse(json) });
  const e = entry(ex);
  assert.equal(e.response.content.text, json);
  assert.equal(e.response.content.encoding, undefined);
  assert.equal(e.response.content.size, Buffer.byteLength(json));
  assert.equal(e.response.bodySize, ex.response!.body.bytes.length);
  assert.equal(e.response.content.compression, Buffer.byteLength(json) - ex.response!.body.bytes.length);
  assert.deepEqual(validateHar(asHar([e])), []);
});

test('a brotli and a deflate response are decoded too', () => {
  for (const [enc, bytes] of [
    ['br', zlib.brotliCompressSync(Buffer.from('{"ok":true}'))],
    ['deflate', zlib.deflateSync(Buffer.from('{"ok":true}'))],
  ] as const) {
    const e = entry(
      exchange({ response: { status: 200, statusText: 'OK', httpVersion: 'HTTP/1.1', headers: [['content-encoding', enc]], body: body(bytes) } }),
    );
    assert.equal(e.response.content.text, '{"ok":true}', enc);
    assert.equal(e.response.content.size, 11, enc);
  }
});

test('a corrupt gzip body keeps the wire bytes as base64 and says why in a comment', () => {
  const wire = Buffer.from('this is not gzip at all');
  const e = entry(
    exchange({ response: { status: 200, statusText: 'OK', httpVersion: 'HTTP/1.1', headers: [['Content-Encoding', 'gzip']], body: body(wire) } }),
  );
  assert.equal(e.response.content.encoding, 'base64');
  assert.equal(e.response.content.text, wire.toString('base64'));
  assert.match(e.response.content.comment ?? '', /could not be decoded/);
  assert.match(e.comment ?? '', /could not be decoded/);
});

test('binary bodies are base64: the response in content, the request in _airlock.requestBodyBase64', () => {
  const bin = Buffer.from([0, 1, 2, 255, 254, 0, 7]);
  const e = entry(
    exchange({
      reqHeaders: [['Content-Type', 'application/octet-stream']],
      reqBody: body(bin),
      response: { status: 200, statusText: 'OK', httpVersion: 'HTTP/1.1', headers: [['Content-Type', 'image/png']], body: body(bin) },
    }),
  );
  assert.deepEqual(e.response.content, { size: 7, mimeType: 'image/png', text: bin.toString('base64'), encoding: 'base64' });
  assert.equal(e.request.postData, undefined);
  assert.equal(e._airlock.requestBodyBase64, bin.toString('base64'));
  assert.match(e.comment ?? '', /requestBodyBase64/);
  assert.deepEqual(validateHar(asHar([e])), []);
});

test('a body over the cap is marked truncated in comment and _airlock with both sizes', () => {
  const captured = 'x'.repeat(100);
  const e = entry(
    exchange({
      reqBody: body(captured, { size: 5000, truncated: true }),
      response: { status: 200, statusText: 'OK', httpVersion: 'HTTP/1.1', headers: [], body: body(captured, { size: 9000, truncated: true }) },
    }),
  );
  assert.deepEqual(e._airlock.truncated, {
    request: true,
    requestBodySize: 5000,
    requestBytesRecorded: 100,
    response: true,
    responseBodySize: 9000,
    responseBytesRecorded: 100,
  });
  assert.match(e.comment ?? '', /request body truncated: 100 of 5000 bytes recorded/);
  assert.match(e.comment ?? '', /response body truncated: 100 of 9000 bytes recorded/);
  assert.equal(e.request.bodySize, 5000, 'bodySize is what went over the wire');
  assert.equal(e.response.content.text, captured);
});

test('a truncated body cut inside a UTF-8 character is still text', () => {
  const cut = Buffer.from('héllo', 'utf8').subarray(0, 2); // "h" + half of "é"
  const e = entry(
    exchange({ response: { status: 200, statusText: 'OK', httpVersion: 'HTTP/1.1', headers: [], body: body(cut, { size: 6, truncated: true }) } }),
  );
  assert.equal(e.response.content.text, 'h');
  assert.equal(e.response.content.encoding, undefined);
});

test('a request that got no response is status 0 with _error, x-unknown content and valid numbers', () => {
  const e = entry(exchange({ response: null, error: 'upstream unreachable: ECONNREFUSED' }));
  assert.equal(e.response.status, 0);
  assert.equal(e.response.statusText, '');
  assert.deepEqual(e.response.content, { size: 0, mimeType: 'x-unknown' });
  assert.equal(e.response.bodySize, -1);
  assert.equal(e.response.headersSize, -1);
  assert.equal(e._error, 'upstream unreachable: ECONNREFUSED');
  for (const n of [e.time, e.response.status, e.response.content.size, e.timings.send, e.timings.wait, e.timings.receive]) {
    assert.ok(Number.isFinite(n));
  }
  assert.deepEqual(validateHar(asHar([e])), []);
});

test('a begin without its exchange becomes a no-response entry', () => {
  const e = buildNoResponseEntry({
    type: 'begin',
    id: 'b1',
    startedDateTime: '2026-11-22T03:15:00.000Z',
    method: 'GET',
    url: 'https://api.datadoghq.com/api/v1/validate',
  });
  assert.equal(e._error, NO_RESPONSE_ERROR);
  assert.equal(e.response.status, 0);
  assert.equal(e.request.url, 'https://api.datadoghq.com/api/v1/validate');
  assert.deepEqual(validateHar(asHar([e])), []);
});

test('a journal line with garbage numbers and fields still yields a schema-valid entry', () => {
  const garbage = {
    type: 'exchange',
    id: 'g',
    startedDateTime: 'yesterday',
    request: { method: 7, url: 'not a url', headers: 'nope', headersSize: '12', body: { wireSize: 'x', contentSize: null, truncated: false, text: 5 } },
    response: { status: '200', headers: [['a']], headersSize: NaN, body: { wireSize: -3, contentSize: 'a' } },
    timings: { send: -5, wait: 'x', receive: null, dns: Infinity },
    serverIPAddress: 'not-an-ip',
    airlock: null,
  } as unknown as JournalExchangeLine;
  const e = buildHarEntry(garbage);
  assert.deepEqual(validateHar(asHar([e])), []);
  assert.equal(e.startedDateTime, '1970-01-01T00:00:00.000Z');
  assert.equal(e.timings.send, 0);
  assert.equal(e.timings.dns, -1);
  assert.equal(e.serverIPAddress, undefined);
});

test('request headersSize counts the target as sent: dot segments and raw encoding kept, the fragment left out', () => {
  const ex = exchange({});
  const e = entry({ ...ex, request: { ...ex.request, url: 'https://api.datadoghq.com/api/v1/../v2/a%7Eb?q=1#frag' } });
  const reqBlock =
    'POST /api/v1/../v2/a%7Eb?q=1 HTTP/1.1\r\n' +
    'Host: api.datadoghq.com\r\nContent-Type: application/json\r\n' +
    'DD-API-KEY: 0123456789abcdef0123456789abcdef\r\n\r\n';
  assert.equal(e.request.headersSize, Buffer.byteLength(reqBlock));
});

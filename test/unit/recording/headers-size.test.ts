// headersSize is counted part by part (journal/headers-size.ts) instead of from the header block
// built as text: the counts must be the block's UTF-8 length exactly, for any text a header holds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toJournalExchange } from '../../../appliance/recording/journal/index.js';
import { prepareSecrets } from '../../../appliance/secrets/redact.js';
import type { HeaderPair } from '../../../appliance/lib/exchange-types.js';
import { body, exchange } from './exchange-fixtures.js';

const block = (first: string, headers: readonly HeaderPair[]): number =>
  Buffer.byteLength(`${first}\r\n${headers.map(([n, v]) => `${n}: ${v}\r\n`).join('')}\r\n`);

const HEADERS: readonly HeaderPair[][] = [
  [],
  [['Host', 'api.datadoghq.com']],
  [
    ['X-Latin1', 'caf\u00e9 \u00ff'],
    ['X-Emoji', '\u{1F600} ok'],
    // Lone surrogates are 3 bytes each (U+FFFD) in UTF-8, wherever they stand.
    ['X-High\ud800', '\udc00value\ud800'],
    ['\udc00', ''],
  ],
];

const sizes = (method: string, url: string, headers: HeaderPair[], status: number, statusText: string) => {
  const ex = exchange({ method, url, reqHeaders: headers, reqBody: null, response: { status, statusText, httpVersion: 'HTTP/1.1', headers, body: body('') } });
  const line = toJournalExchange(ex, prepareSecrets([]), { maxDecodedBytes: 1024 });
  return { request: line.request.headersSize, response: line.response?.headersSize };
};

test('headersSize equals the byte length of the request or status line and the header block as text', () => {
  for (const headers of HEADERS) {
    for (const [method, url, target, status, statusText] of [
      ['GET', 'https://api.datadoghq.com/api/v1/validate', '/api/v1/validate', 200, 'OK'],
      ['P\u00d6ST', 'https://h/a/\u00e9?q=\ud800#frag', '/a/\u00e9?q=\ud800', 502, 'Bad Gateway \u00e9\ud800'],
      ['GET', 'https://h', '/', 0, ''],
    ] as const) {
      assert.deepEqual(
        sizes(method, url, headers, status, statusText),
        { request: block(`${method} ${target} HTTP/1.1`, headers), response: block(`HTTP/1.1 ${status} ${statusText}`, headers) },
        `${method} ${url} ${status}`,
      );
    }
  }
});

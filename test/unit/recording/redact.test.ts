import { test } from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import { captureBody, toJournalExchange } from '../../../appliance/recording/journal/index.js';
import { prepareSecrets, redactHeaders, redactText, redactTruncatedTail, redactUrl } from '../../../appliance/secrets/redact.js';
import type { Secret } from '../../../appliance/lib/exchange-types.js';
import { AGENT_KEY, APP_KEY, body, exchange, SECRETS, secretValuesIn, TOKEN, TOKEN_SIGNATURE, VAULT_KEY } from './exchange-fixtures.js';

const secrets = prepareSecrets(SECRETS);
const limits = { maxDecodedBytes: 1024 * 1024 };

test('credential headers are redacted by name, case-insensitively, every occurrence', () => {
  const out = redactHeaders(
    [
      ['Cookie', 'a=1'],
      ['cookie', 'b=2'],
      ['Set-Cookie', 'sid=xyz; HttpOnly'],
      ['X-Api-Key', 'whatever-value'],
      ['PROXY-AUTHORIZATION', 'Basic dXNlcjpwYXNz'],
      ['DD-APPLICATION-KEY', 'not-a-known-secret'],
      ['Accept', 'application/json'],
    ],
    secrets,
  );
  assert.deepEqual(out, [
    ['Cookie', '[redacted:cookie]'],
    ['cookie', '[redacted:cookie]'],
    ['Set-Cookie', '[redacted:set-cookie]'],
    ['X-Api-Key', '[redacted:x-api-key]'],
    ['PROXY-AUTHORIZATION', '[redacted:proxy-authorization]'],
    ['DD-APPLICATION-KEY', '[redacted:dd-application-key]'],
    ['Accept', 'application/json'],
  ]);
});

test('a credential header holding a known secret is labelled with that secret, also after a Bearer scheme', () => {
  const out = redactHeaders(
    [
      ['DD-API-KEY', VAULT_KEY],
      ['Authorization', `Bearer ${TOKEN}`],
      ['dd-application-key', ` ${APP_KEY} `],
    ],
    secrets,
  );
  assert.deepEqual(out, [
    ['DD-API-KEY', '[redacted:vault:ci-metrics]'],
    ['Authorization', '[redacted:token]'],
    ['dd-application-key', '[redacted:vault:ci-metrics app key]'],
  ]);
});

test('a secret value anywhere in other headers and text is replaced by its label', () => {
  assert.deepEqual(redactHeaders([['X-Debug', `key=${AGENT_KEY};`]], secrets), [['X-Debug', 'key=[redacted:agent dd-api-key];']]);
  assert.equal(
    redactText(`{"echo":"${VAULT_KEY}","again":"${VAULT_KEY}"}`, secrets),
    '{"echo":"[redacted:vault:ci-metrics]","again":"[redacted:vault:ci-metrics]"}',
  );
});

test('secret values shorter than 8 characters are ignored so ordinary text survives', () => {
  const s = prepareSecrets([
    { value: 'abc', label: 'short' },
    { value: '1234567', label: 'seven' },
  ]);
  assert.equal(redactText('abc 1234567 abcdef', s), 'abc 1234567 abcdef');
});

test('an unknown JWT keeps its header and payload and loses its signature', () => {
  const jwt = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo';
  assert.equal(redactText(`token=${jwt} end`, prepareSecrets([])), 'token=eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.[redacted:signature] end');
  assert.deepEqual(redactHeaders([['X-Token', jwt]], prepareSecrets([])), [['X-Token', 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.[redacted:signature]']]);
});

test('Datadog key query parameters are redacted with an encoded placeholder and other parameters are kept', () => {
  const url = redactUrl(
    'https://api.datadoghq.com/api/v1/series?api_key=k1&from=1&Application_Key=k2&dd-api-key=k3&dd-application-key=k4#x',
    prepareSecrets([]),
  );
  assert.equal(
    url,
    'https://api.datadoghq.com/api/v1/series?api_key=%5Bredacted%3Aquery%20api_key%5D&from=1' +
      '&Application_Key=%5Bredacted%3Aquery%20application_key%5D&dd-api-key=%5Bredacted%3Aquery%20dd-api-key%5D' +
      '&dd-application-key=%5Bredacted%3Aquery%20dd-application-key%5D',
  );
  assert.equal(new URL(url).searchParams.get('api_key'), '[redacted:query api_key]');
});

test('a secret or a JWT in the URL path is redacted too', () => {
  const url = redactUrl(`https://h.example/v1/input/${VAULT_KEY}?t=${TOKEN}`, secrets);
  assert.deepEqual(secretValuesIn(url), []);
  assert.equal(url, 'https://h.example/v1/input/%5Bredacted%3Avault%3Aci-metrics%5D?t=%5Bredacted%3Atoken%5D');
});

test('a form body has its key parameters redacted', () => {
  const b = captureBody(body('api_key=abc123&x=1'), [['Content-Type', 'application/x-www-form-urlencoded']], secrets, limits);
  assert.equal(b.text, 'api_key=[redacted:query%20api_key]&x=1');
});

test('a gzip body is stored decoded and redacted instead of its encoded bytes, with a decoded flag', () => {
  const gz = zlib.gzipSync(Buffer.from(`{"apiKey":"${VAULT_KEY}","token":"${TOKEN}"}`));
  const b = captureBody(body(gz), [['Content-Encoding', 'gzip']], secrets, limits);
  assert.equal(b.text, '{"apiKey":"[redacted:vault:ci-metrics]","token":"[redacted:token]"}');
  assert.equal(b.decoded, true);
  assert.equal(b.base64, undefined);
  assert.equal(b.wireSize, gz.length);
});

test('a truncated gzip body is decoded as far as it goes and redacted', () => {
  const gz = zlib.gzipSync(Buffer.from(`${VAULT_KEY} `.repeat(2000)));
  const cut = gz.subarray(0, Math.floor(gz.length / 2));
  const b = captureBody(body(cut, { size: gz.length, truncated: true }), [['Content-Encoding', 'gzip']], secrets, limits);
  assert.equal(b.decoded, true);
  assert.match(b.note ?? '', /decoded prefix/);
  assert.ok((b.text ?? '').startsWith('[redacted:vault:ci-metrics] '));
  assert.deepEqual(secretValuesIn(b.text ?? ''), []);
});

test('secret bytes inside a binary body are replaced', () => {
  const bin = Buffer.concat([Buffer.from([0, 1, 2]), Buffer.from(AGENT_KEY), Buffer.from([255, 0])]);
  const b = captureBody(body(bin), [], secrets, limits);
  const stored = Buffer.from(b.base64 ?? '', 'base64');
  assert.equal(stored.includes(Buffer.from(AGENT_KEY)), false);
  assert.ok(stored.includes(Buffer.from('[redacted:agent dd-api-key]')));
});

test('a body cut at the cap in the middle of a secret loses that secret prefix too', () => {
  assert.equal(redactTruncatedTail(`hello ${VAULT_KEY.slice(0, 20)}`, secrets), 'hello [redacted:vault:ci-metrics]');
  assert.equal(redactTruncatedTail('hello 012', secrets), 'hello 012', 'three characters are not a secret prefix');
});

test('a whole exchange with secrets in every place leaves none of them in its journal line', () => {
  const ex = exchange({
    url: `https://api.datadoghq.com/api/v2/series?api_key=${AGENT_KEY}&sig=${TOKEN}`,
    reqHeaders: [
      ['DD-API-KEY', VAULT_KEY],
      ['Proxy-Authorization', `Bearer ${TOKEN}`],
      ['X-Echo', AGENT_KEY],
      ['DD-APPLICATION-KEY', APP_KEY],
    ],
    reqBody: body(`{"key":"${VAULT_KEY}","jwt":"${TOKEN}"}`),
    response: {
      status: 403,
      statusText: `Forbidden ${AGENT_KEY}`,
      httpVersion: 'HTTP/1.1',
      headers: [
        ['Set-Cookie', `s=${TOKEN}`],
        ['Content-Encoding', 'gzip'],
      ],
      body: body(zlib.gzipSync(Buffer.from(`{"errors":["bad key ${AGENT_KEY}"]}`))),
    },
    error: `upstream said ${APP_KEY}`,
  });
  const line = JSON.stringify(toJournalExchange(ex, secrets, limits));
  assert.deepEqual(secretValuesIn(line), []);
  assert.ok(line.includes('[redacted:agent dd-api-key]'));
  assert.ok(!line.includes(TOKEN_SIGNATURE));
});

test('secrets prepared once per exchange are prepared again when the list has grown since', () => {
  const list: Secret[] = [{ value: 'agentkey-0123456789', label: 'agent credential' }];
  assert.equal(prepareSecrets(list), prepareSecrets(list), 'the same list is prepared once');
  list.push({ value: 'vaultedkey-abcdef0123', label: 'credential dd-prod api key' });
  const text = redactText('echo vaultedkey-abcdef0123 and agentkey-0123456789', prepareSecrets(list));
  assert.equal(text, 'echo [redacted:credential dd-prod api key] and [redacted:agent credential]');
});

test('a key-shaped value in the request URL, a header name and value and the body is redacted, and so is its echo', () => {
  const k1 = '11112222333344445555666677778888';
  const k2 = '9999aaaabbbbccccddddeeeeffff000011112222';
  const k3 = 'ddapp_ZyXwVuTsRqPoNmLkJiHgFeDcBa98765432';
  const k4 = 'abcdefabcdefabcdefabcdefabcdef12';
  const line = toJournalExchange(
    exchange({
      url: `https://api.datadoghq.com/api/v1/foo/${k1}?q=1`,
      reqHeaders: [
        ['Host', 'api.datadoghq.com'],
        ['X-Trace', k2],
        [`X-${k4}`, '1'],
        ['DD-API-KEY', VAULT_KEY],
      ],
      reqBody: body(JSON.stringify({ title: k3 })),
      response: { status: 200, statusText: k1, httpVersion: 'HTTP/1.1', headers: [['X-Echo', k2]], body: body(JSON.stringify({ a: k3, b: k4 })) },
    }),
    secrets,
    limits,
  );
  const text = JSON.stringify(line);
  for (const k of [k1, k2, k3, k4]) assert.ok(!text.includes(k), k);
  assert.equal(line.request.url, 'https://api.datadoghq.com/api/v1/foo/%5Bredacted%3Akey-shaped%20value%5D?q=1');
  assert.deepEqual(line.request.headers[2], ['X-[redacted:key-shaped value]', '1']);
  // A known secret keeps its own label even though it is key-shaped.
  assert.deepEqual(line.request.headers[3], ['DD-API-KEY', '[redacted:vault:ci-metrics]']);
});

test('a key-shaped value only in the response is not redacted by shape', () => {
  const id = '11112222333344445555666677778888';
  const line = toJournalExchange(
    exchange({ response: { status: 200, statusText: 'OK', httpVersion: 'HTTP/1.1', headers: [], body: body(JSON.stringify({ trace: id })) } }),
    secrets,
    limits,
  );
  assert.ok(JSON.stringify(line.response).includes(id));
});

test('a key-shaped value in a binary request body is redacted in the stored bytes', () => {
  const k = '11112222333344445555666677778888';
  const bytes = Buffer.concat([Buffer.from([0xff, 0x00, 0xfe]), Buffer.from(` ${k} `), Buffer.from([0x80])]);
  const line = toJournalExchange(exchange({ reqHeaders: [['Content-Type', 'application/octet-stream']], reqBody: body(bytes) }), secrets, limits);
  const b64 = line.request.body && 'base64' in line.request.body ? line.request.body.base64 : '';
  assert.ok(b64 !== '' && !Buffer.from(b64, 'base64').toString('latin1').includes(k));
});

test('query and form parameters named like a credential by the rule are redacted by name', () => {
  assert.equal(
    redactUrl('https://h/p?api_key[]=a&x=1&apikey=b', prepareSecrets([])),
    'https://h/p?api_key[]=%5Bredacted%3Aquery%20api_key%5B%5D%5D&x=1&apikey=%5Bredacted%3Aquery%20apikey%5D',
  );
  assert.deepEqual(
    redactHeaders(
      [
        ['X-Datadog-Api-Key', 'v'],
        ['DD.APP.KEY', 'w'],
      ],
      prepareSecrets([]),
    ),
    [
      ['X-Datadog-Api-Key', '[redacted:x-datadog-api-key]'],
      ['DD.APP.KEY', '[redacted:dd.app.key]'],
    ],
  );
});

test('a request body cut at the cap in the middle of a key keeps no part of it', () => {
  const k = '11112222333344445555666677778888';
  const text = `{"a":"${k.slice(0, 20)}`;
  const line = toJournalExchange(exchange({ reqBody: body(text, { size: 100, truncated: true }) }), secrets, limits);
  const stored = line.request.body && 'text' in line.request.body ? line.request.body.text : '';
  assert.equal(stored, '{"a":"[redacted:key-shaped value]');
});

test('secrets prepared by content: a new array with the same secrets shares the preparation, any other difference does not', () => {
  const a: Secret[] = [
    { value: 'vaultedkey-abcdef0123', label: 'credential dd-prod api key' },
    { value: 'agentkey-0123456789', label: 'agent credential' },
  ];
  const copy = (l: readonly Secret[]): Secret[] => l.map((s) => ({ ...s }));
  const p = prepareSecrets(a);
  assert.equal(prepareSecrets(copy(a)), p, 'same values and labels in the same order: one preparation');
  const text = 'echo vaultedkey-abcdef0123 and agentkey-0123456789';
  const relabelled = copy(a);
  relabelled[1] = { value: 'agentkey-0123456789', label: 'other' };
  assert.equal(redactText(text, prepareSecrets(relabelled)), 'echo [redacted:credential dd-prod api key] and [redacted:other]');
  const revalued = copy(a);
  revalued[1] = { value: 'agentkey-9999999999', label: 'agent credential' };
  assert.equal(redactText(text, prepareSecrets(revalued)), 'echo [redacted:credential dd-prod api key] and agentkey-0123456789');
  assert.equal(redactText(text, prepareSecrets(a.slice(0, 1))), 'echo [redacted:credential dd-prod api key] and agentkey-0123456789');
  // The cache keeps its own copy: changing the first array's objects afterwards changes nothing.
  const changed = copy(a);
  prepareSecrets(changed);
  (changed[1] as { value: string }).value = 'agentkey-changed000';
  assert.equal(redactText(text, prepareSecrets(copy(a))), 'echo [redacted:credential dd-prod api key] and [redacted:agent credential]');
});

test('redactUrl gives each URL and secret list its own result (begin and record share the last one)', () => {
  const withKey = prepareSecrets([{ value: 'agentkey-0123456789', label: 'agent credential' }]);
  const none = prepareSecrets([]);
  const u1 = 'https://h/a/agentkey-0123456789?x=1';
  const u2 = 'https://h/b?api_key=agentkey-0123456789#f';
  for (let i = 0; i < 2; i++) {
    assert.equal(redactUrl(u1, withKey), 'https://h/a/%5Bredacted%3Aagent%20credential%5D?x=1');
    assert.equal(redactUrl(u1, none), u1);
    assert.equal(redactUrl(u2, withKey), 'https://h/b?api_key=%5Bredacted%3Aquery%20api_key%5D');
    assert.equal(redactUrl(u2, none), 'https://h/b?api_key=%5Bredacted%3Aquery%20api_key%5D');
  }
});

test('an empty body is stored as the full path stores it: no text, its sizes, its encoding', () => {
  const none = prepareSecrets([]);
  assert.deepEqual(captureBody(body(''), [['Content-Type', 'application/json']], none, limits), {
    wireSize: 0,
    capturedBytes: 0,
    truncated: false,
    contentSize: 0,
    text: '',
  });
  assert.deepEqual(captureBody(body('', { size: 4096, truncated: true }), [['Content-Encoding', ' GZip ']], none, limits, new Set()), {
    wireSize: 4096,
    capturedBytes: 0,
    truncated: true,
    contentEncoding: 'gzip',
    contentSize: 4096,
    text: '',
  });
  // Member order is part of the journal's bytes.
  assert.equal(
    JSON.stringify(captureBody(body(''), [['content-encoding', 'br']], none, limits)),
    '{"wireSize":0,"capturedBytes":0,"truncated":false,"contentEncoding":"br","contentSize":0,"text":""}',
  );
});

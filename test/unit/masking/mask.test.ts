import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough, Readable } from 'node:stream';
import { gzipSync, brotliCompressSync } from 'node:zlib';
import { maskStep, textMasker } from '../../../appliance/masking/mask-text.js';
import { StreamMasker } from '../../../appliance/masking/mask-stream.js';
import { maskJsonPaths } from '../../../appliance/masking/json-path-mask.js';
import { maskResponse } from '../../../appliance/masking/mask-response.js';
import { isAirlockError } from '../../../appliance/errors.js';
import { codingsToUndo } from '../../../appliance/masking/response-codings.js';
import { maskHead } from '../../../appliance/masking/mask-head.js';

const KEY = 'ddapi0123456789abcdef0123456789ab';
const NO_RULES = { regexes: [], jsonPaths: [] };

test('a vaulted key anywhere in text becomes [masked:credential]; a regex rule masks with its name', () => {
  const m = textMasker([KEY], [{ name: 'email', regex: '[\\w.+-]+@[\\w-]+\\.[\\w.]+' }]);
  const s = maskStep(m, `{"k":"${KEY}","by":"a.b@example.com"}`, true);
  assert.equal(s.out, '{"k":"[masked:credential]","by":"[masked:email]"}');
  assert.deepEqual([...s.fired].sort(), ['credential', 'email']);
});

test('maskers are reused for the same keys and rules, and a rotated key or a new rule is masked at once', () => {
  const rotated = 'ddapiffffffffffffffffffffffffffffff';
  const body = `old ${KEY} new ${rotated} mail a@b.io`;
  assert.equal(maskStep(textMasker([KEY], []), body, true).out, `old [masked:credential] new ${rotated} mail a@b.io`);
  assert.equal(textMasker([KEY], []), textMasker([KEY], []), 'the same keys and rules give the same compiled masker');
  assert.equal(maskStep(textMasker([rotated], []), body, true).out, `old ${KEY} new [masked:credential] mail a@b.io`);
  assert.equal(
    maskStep(textMasker([rotated], [{ name: 'mail', regex: '\\w+@\\w+\\.io' }]), body, true).out,
    `old ${KEY} new [masked:credential] mail [masked:mail]`,
  );
  // Two streams sharing one masker, stepped in turns, do not disturb each other's matching.
  const m = textMasker([KEY], []);
  const a = maskStep(m, `x ${KEY.slice(0, 10)}`, false);
  const b = maskStep(m, `y ${KEY} y`, true);
  assert.equal(a.out + maskStep(m, `${a.keep}${KEY.slice(10)} x`, true).out, 'x [masked:credential] x');
  assert.equal(b.out, 'y [masked:credential] y');
});

test('the streaming masker catches a key split across every possible chunk boundary', () => {
  const text = `prefix ${KEY} middle ${KEY} end`;
  for (let cut = 1; cut < text.length; cut++) {
    const masker = new StreamMasker(textMasker([KEY], []), new Set<string>());
    const chunks = [...masker.push(Buffer.from(text.slice(0, cut))), ...masker.push(Buffer.from(text.slice(cut))), ...masker.end()];
    assert.equal(Buffer.concat(chunks).toString(), 'prefix [masked:credential] middle [masked:credential] end', `cut at ${cut}`);
  }
});

test('a JSON-path rule replaces every value it selects, and leaves the body alone when it selects nothing', () => {
  const body = JSON.stringify({ data: [{ attributes: { key: 'a', name: 'x' } }, { attributes: { key: 'b' } }] });
  const r = maskJsonPaths([{ name: 'api-key', jsonPath: '$.data[*].attributes.key' }], body);
  assert.deepEqual(JSON.parse(r?.text ?? '{}'), {
    data: [{ attributes: { key: '[masked:api-key]', name: 'x' } }, { attributes: { key: '[masked:api-key]' } }],
  });
  assert.equal(maskJsonPaths([{ name: 'n', jsonPath: '$.nothing' }], body), null);
});

const resp = (body: Buffer, headers: string[], rest: Readable | null = null) => ({
  method: 'GET',
  status: 200,
  statusText: 'OK',
  rawHeaders: headers,
  held: [body],
  rest,
});
const header = (raw: readonly string[], name: string): string | undefined => {
  const i = raw.findIndex((v, j) => j % 2 === 0 && v.toLowerCase() === name);
  return i < 0 ? undefined : raw[i + 1];
};

for (const [enc, pack] of [
  ['gzip', gzipSync],
  ['br', brotliCompressSync],
] as const) {
  test(`a ${enc} body is decoded, masked and sent identity-encoded with a correct Content-Length`, () => {
    const packed = pack(Buffer.from(JSON.stringify({ k: KEY })));
    const m = maskResponse(
      resp(packed, ['Content-Type', 'application/json', 'Content-Encoding', enc, 'Content-Length', String(packed.length)]),
      [KEY],
      NO_RULES,
      1 << 20,
    );
    assert.equal(m.body.bytes.toString(), '{"k":"[masked:credential]"}');
    assert.equal(header(m.rawHeaders, 'content-encoding'), undefined);
    assert.equal(header(m.rawHeaders, 'content-length'), String(m.body.bytes.length));
    assert.deepEqual(m.fired, ['credential']);
  });
}

test('a key in a response header is masked; an untouched identity body keeps its bytes and headers', () => {
  const m = maskResponse(resp(Buffer.from('{"ok":true}'), ['X-Echo', KEY, 'Content-Length', '11']), [KEY], NO_RULES, 1 << 20);
  assert.equal(header(m.rawHeaders, 'x-echo'), '[masked:credential]');
  assert.equal(header(m.rawHeaders, 'content-length'), '11');
});

test('a JSON-path rule on a body larger than maxBodyBytes fails closed with MASKING_UNAVAILABLE', () => {
  const rest = Readable.from([Buffer.from('more')]);
  assert.throws(
    () =>
      maskResponse(
        resp(Buffer.from('{"a":'), ['Content-Type', 'application/json'], rest),
        [KEY],
        { regexes: [], jsonPaths: [{ name: 'k', jsonPath: '$.a' }] },
        4,
      ),
    (e: unknown) => isAirlockError(e) && e.code === 'MASKING_UNAVAILABLE' && e.status === 502,
  );
});

test('an unknown Content-Encoding fails closed with UPSTREAM_ENCODING', () => {
  assert.throws(
    () => maskResponse(resp(Buffer.from('x'), ['Content-Encoding', 'zstd']), [KEY], NO_RULES, 100),
    (e: unknown) => isAirlockError(e) && e.code === 'UPSTREAM_ENCODING' && e.status === 502,
  );
});

test('an empty body under a coding is sent empty, without the coding, not refused', () => {
  const m = maskResponse(resp(Buffer.alloc(0), ['Content-Encoding', 'gzip', 'Content-Length', '0']), [KEY], NO_RULES, 100);
  assert.equal(header(m.rawHeaders, 'content-encoding'), undefined);
  assert.equal(header(m.rawHeaders, 'content-length'), '0');
});

test('codings are undone transfer first, then content, last listed first; a final chunked and identity are skipped', () => {
  const m = textMasker([KEY], []);
  assert.deepEqual(codingsToUndo(['Content-Encoding', 'gzip, identity', 'content-encoding', 'BR', 'Transfer-Encoding', 'deflate, chunked'], m), [
    'deflate',
    'br',
    'gzip',
  ]);
  assert.deepEqual(codingsToUndo(['Content-Length', '3'], m), []);
  const refused = (raw: string[]): boolean => {
    try {
      codingsToUndo(raw, m);
      return false;
    } catch (e) {
      assert.ok(isAirlockError(e) && e.code === 'UPSTREAM_ENCODING');
      assert.ok(!e.message.includes(KEY), 'the error names the key');
      return true;
    }
  };
  assert.ok(refused(['Transfer-Encoding', 'chunked, gzip']), 'a chunked that is not last was not undone by Node');
  assert.ok(refused(['Content-Encoding', `gzip, ${KEY}`]));
  assert.ok(refused(['Content-Encoding', 'gzip, gzip, gzip, gzip, gzip']), 'more than MAX_CODINGS layers');
});

test('the reason phrase and header values are masked, and a header named after the key is dropped and reported', () => {
  const fired = new Set<string>();
  const h = maskHead(`OK ${KEY}`, ['X-Echo', KEY, `x-${KEY}`, '1', 'Content-Length', '2'], textMasker([KEY], []), fired);
  assert.equal(h.statusText, 'OK [masked:credential]');
  assert.deepEqual(h.rawHeaders, ['X-Echo', '[masked:credential]', 'Content-Length', '2']);
  assert.deepEqual([...fired].sort(), ['credential', 'header-name-dropped']);
});

test('a streamed body under stacked codings is decoded layer by layer and masked across chunk boundaries', async () => {
  const plain = Buffer.from(`{"k":"${KEY}","pad":"${'z'.repeat(5000)}","again":"${KEY}"}`);
  const packed = brotliCompressSync(gzipSync(plain));
  const cut = 10;
  const rest = Readable.from([packed.subarray(cut, cut + 7), packed.subarray(cut + 7)]);
  const m = maskResponse(resp(packed.subarray(0, cut), ['Content-Encoding', 'gzip', 'Content-Encoding', 'br'], rest), [KEY], NO_RULES, 4);
  assert.equal(header(m.rawHeaders, 'content-encoding'), undefined);
  const sink = new PassThrough();
  const got: Buffer[] = [];
  sink.on('data', (c: Buffer) => got.push(c));
  const fake = Object.assign(sink, { writeHead: () => fake }) as unknown as import('node:http').ServerResponse;
  await m.deliver(fake, { debug: () => undefined } as unknown as import('../../../appliance/log.js').Logger);
  const text = Buffer.concat(got).toString('utf8');
  assert.equal(text, plain.toString('utf8').replaceAll(KEY, '[masked:credential]'));
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { maskBuffer, textMasker, type MaskRegexes, type TextMasker } from '../../../appliance/masking/mask-text.js';
import { StreamMasker } from '../../../appliance/masking/mask-stream.js';

// The streaming masker must give, for every chunking of a body, exactly what masking the whole
// body at once gives: the Buffer fast path (no regex rules) and the string path (regex rules).
const KEY = 'ddapi0123456789abcdef0123456789ab';
// A vaulted value with characters percent-encoding changes: both forms must be masked.
const ODD = 'p@ss/w+rd=&k%y é';
const ODD_ENCODED = encodeURIComponent(ODD);
const SEED = 170_021;

function streamed(m: TextMasker, chunks: readonly Buffer[]): { bytes: Buffer; fired: Set<string> } {
  const fired = new Set<string>();
  const s = new StreamMasker(m, fired);
  const out = chunks.flatMap((c) => s.push(c));
  out.push(...s.end());
  return { bytes: Buffer.concat(out), fired };
}

/** `body` cut at `cuts` (positions, any order, duplicates allowed: empty chunks too). */
function chunked(body: Buffer, cuts: readonly number[]): Buffer[] {
  const at = [...new Set(cuts.map((c) => c % (body.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const c of [...at, body.length]) {
    out.push(body.subarray(prev, c));
    prev = c;
  }
  return out;
}

const piece = fc.oneof(
  fc.constantFrom(KEY, ODD, ODD_ENCODED, KEY.slice(0, 12), KEY.slice(5), ODD_ENCODED.slice(0, 9), ODD_ENCODED.slice(4), 'dd', '%', 'p@ss', 'é', '123', '4567'),
  fc.string({ maxLength: 40 }),
);
const bodyArb = fc.array(piece, { maxLength: 24 }).map((parts) => Buffer.from(parts.join(''), 'utf8'));
const cutsArb = fc.array(fc.nat(), { maxLength: 40 });

for (const [what, regexes] of [
  ['vaulted values only (the Buffer path)', []],
  ['vaulted values and a regex rule (the string path)', [{ name: 'digits', regex: '\\d{3}' }]],
] as const satisfies readonly (readonly [string, MaskRegexes])[]) {
  test(`property, ${what}: every chunking masks exactly as the whole body does (fast-check seed ${SEED})`, () => {
    const m = textMasker([KEY, ODD], regexes);
    fc.assert(
      fc.property(bodyArb, cutsArb, fc.boolean(), (body, cuts, bytewise) => {
        const whole = maskBuffer(m, body);
        const chunks = bytewise ? [...body].map((b) => Buffer.from([b])) : chunked(body, cuts);
        const got = streamed(m, chunks);
        assert.equal(got.bytes.toString('latin1'), whole.bytes.toString('latin1'));
        assert.deepEqual([...got.fired].sort(), [...whole.fired].sort());
        for (const secret of [KEY, ODD, ODD_ENCODED]) assert.ok(!got.bytes.includes(Buffer.from(secret)), 'a secret form got through');
      }),
      { seed: SEED, numRuns: 400 },
    );
  });
}

test('a vaulted value and its percent-encoded form split at every byte boundary, and in 1-byte chunks, are masked', () => {
  const m = textMasker([KEY, ODD], []);
  const body = Buffer.from(`a ${ODD} b ${ODD_ENCODED} c ${KEY} d`, 'utf8');
  const want = 'a [masked:credential] b [masked:credential] c [masked:credential] d';
  for (let cut = 0; cut <= body.length; cut++) {
    assert.equal(streamed(m, [body.subarray(0, cut), body.subarray(cut)]).bytes.toString('utf8'), want, `cut at ${cut}`);
  }
  assert.equal(
    streamed(
      m,
      [...body].map((b) => Buffer.from([b])),
    ).bytes.toString('utf8'),
    want,
  );
});

test('with nothing to mask, a chunk goes on whole; only a tail that begins a secret form is held back, and sent once it cannot be one', () => {
  const m = textMasker([KEY], []);
  const fired = new Set<string>();
  const s = new StreamMasker(m, fired);
  const a = Buffer.alloc(1000, 0x61);
  const first = s.push(a);
  assert.equal(first.length, 1);
  assert.equal(first[0], a, 'the same Buffer, not a copy');
  const b = Buffer.from(`bbb ${KEY.slice(0, 10)}`);
  assert.equal(Buffer.concat(s.push(b)).toString(), 'bbb ', 'the start of the key is held');
  const c = Buffer.from(`${KEY.slice(10, 12)}X and on`);
  assert.equal(Buffer.concat(s.push(c)).toString(), `${KEY.slice(0, 12)}X and on`, 'not the key after all: sent');
  assert.deepEqual(s.end(), []);
  assert.equal(fired.size, 0);
});

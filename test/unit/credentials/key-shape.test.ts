import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { findKeyShapes, redactKeyShapedTail, redactKeyShapes } from '../../../appliance/secrets/key-shape.js';

const K32 = '0123456789abcdef0123456789abcdef';
const K40 = 'aaaabbbbccccddddeeeeffff0000111122223333';
const DDAPP = 'ddapp_AbCdEfGhIjKlMnOpQrStUvWxYz01234567';

test('32 hex, 40 hex and ddapp_ keys are found between separators, each once', () => {
  const text = `/api/v1/foo/${K32}?x=${K40}&y=${K32} {"k":"${DDAPP}"} dd_api_key_${K32.toUpperCase()}.`;
  assert.deepEqual(findKeyShapes(text), [K32, K40, DDAPP, K32.toUpperCase()]);
});

test('runs that are longer, shorter or glued to letters and digits are not keys', () => {
  const notKeys = [
    'a'.repeat(64), // a SHA-256
    `${K32}0000`, // 36 hex
    K32.slice(1), // 31 hex
    `x${K32}`, // the hex tail of an identifier
    `${K32}g`,
    `pub${K32}`, // a RUM client token is public by design
    'abc-def-ghi', // a dashboard id
    '1234567890123456789', // a decimal trace id
    '550e8400-e29b-41d4-a716-446655440000', // a UUID with dashes
    'ddapp_short',
  ];
  for (const t of notKeys) assert.deepEqual(findKeyShapes(t), [], t);
});

test('redaction replaces every key-shaped value and leaves the rest byte for byte', () => {
  assert.equal(redactKeyShapes(`a ${K32}/${K40} b ${DDAPP}`, 'X'), 'a X/X b X');
  assert.equal(redactKeyShapes('nothing here', 'X'), 'nothing here');
});

test('the first part of a key at the end of a cut text is replaced; a short or glued tail is not', () => {
  assert.equal(redactKeyShapedTail('{"k":"0123456789abcdef0123', 'X'), '{"k":"X');
  assert.equal(redactKeyShapedTail('{"k":"ddapp_AbC', 'X'), '{"k":"X');
  assert.equal(redactKeyShapedTail('{"n":1234567', 'X'), '{"n":1234567');
  assert.equal(redactKeyShapedTail('{"n":"id0123456789', 'X'), '{"n":"id0123456789');
});

test('the scan finds exactly what the reference regex finds, on generated text', () => {
  const reference = /(?<![A-Za-z0-9])(?:ddapp_[A-Za-z0-9]{20,}|[0-9A-Fa-f]{40}|[0-9A-Fa-f]{32})(?![A-Za-z0-9])/g;
  // Pieces that build keys, near-keys and their boundaries.
  const piece = fc.oneof(
    fc.constantFrom('-', '_', '.', '/', '"', ' ', 'x', 'Z', 'ddapp_', 'ddapp', 'é', '\0'),
    fc.stringMatching(/^[0-9a-f]{1,41}$/),
    fc.stringMatching(/^[0-9A-Za-z]{15,25}$/),
  );
  fc.assert(
    fc.property(fc.array(piece, { maxLength: 12 }), (parts) => {
      const text = parts.join('');
      assert.deepEqual(findKeyShapes(text), [...new Set(text.match(reference) ?? [])]);
      assert.equal(redactKeyShapes(text, '#'), text.replace(reference, '#'));
    }),
    { numRuns: 3000 },
  );
});

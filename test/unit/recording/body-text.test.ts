import { test } from 'node:test';
import assert from 'node:assert/strict';
import { asText } from '../../../appliance/recording/journal/index.js';

test('a body is text only when it is valid UTF-8 without binary control characters; a cut body may end mid-character', () => {
  assert.equal(asText(Buffer.from('{"a":"é✓"}\n'), false), '{"a":"é✓"}\n');
  assert.equal(asText(Buffer.from('\uFEFFbom kept'), false), '\uFEFFbom kept');
  assert.equal(asText(Buffer.from([0x7b, 0xc3, 0x28, 0x7d]), false), null, 'invalid UTF-8');
  assert.equal(asText(Buffer.from('a\u0001b'), false), null, 'a control character means binary');
  const cut = Buffer.from('abc✓').subarray(0, 5); // "abc" + 2 of the 3 bytes of ✓
  assert.equal(asText(cut, false), null, 'a whole body may not end inside a character');
  assert.equal(asText(cut, true), 'abc', 'a truncated one may');
  assert.equal(asText(Buffer.alloc(0), false), '');
});

// Issue 16: docs/errors.md is generated from the error table; a change to either without the
// other fails here (regenerate with `npm run docs:errors`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { renderErrorReference } from '../../../appliance/error-codes/reference.js';
import { ERRORS } from '../../../appliance/errors.js';

const ROOT = resolve(import.meta.dirname, '../../../..');

test('docs/errors.md is what npm run docs:errors generates from the table', () => {
  const committed = readFileSync(resolve(ROOT, 'docs/errors.md'), 'utf8');
  assert.equal(committed, renderErrorReference(), 'docs/errors.md differs from the error table: run npm run docs:errors and commit it');
});

test('the reference lists every code once, with its status', () => {
  const text = renderErrorReference();
  for (const [code, spec] of Object.entries(ERRORS)) {
    const rows = text.split('\n').filter((l) => l.startsWith(`| \`${code}\` |`));
    assert.equal(rows.length, 1, code);
    assert.ok(rows[0]!.startsWith(`| \`${code}\` | ${spec.status ?? '—'} |`), rows[0]);
    assert.equal(rows[0]!.split(/(?<!\\)\|/).length, 6, `${code}: a cell breaks the table`);
  }
});

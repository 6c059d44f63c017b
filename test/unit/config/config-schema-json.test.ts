// Issue #16: docs/config.schema.json is generated from the zod schema (npm run docs:schema); the
// committed file must be exactly what the generator writes today, so it cannot drift from the loader.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderConfigJsonSchema } from '../../../appliance/config/json-schema.js';
import { REPO_ROOT } from '../../fixtures/doc-pages.js';
import { configValidator } from '../../fixtures/config-json-schema.js';

const COMMITTED = join(REPO_ROOT, 'docs/config.schema.json');

test('docs/config.schema.json is what `npm run docs:schema` generates from appliance/config/schema.ts', () => {
  const committed = readFileSync(COMMITTED, 'utf8');
  assert.ok(committed === renderConfigJsonSchema(), 'docs/config.schema.json is stale: run `npm run docs:schema` and commit it');
});

test('the schema has teeth: the empty config passes, an unknown key, a wrong type or a bad enum does not', () => {
  const validate = configValidator();
  assert.equal(validate({}), true, 'an empty file means the defaults');
  assert.equal(validate({ listen: '127.0.0.1:3128', identity: { issuers: [{ name: 'gh', preset: 'github', audience: 'airlock' }] } }), true);
  assert.equal(validate({ lisen: '127.0.0.1:3128' }), false, 'unknown top-level key');
  assert.equal(validate({ identity: { grants: [{ name: 'g', issuer: 'gh', credential: 'dd', polcy: 'p' }] } }), false, 'unknown nested key');
  assert.equal(validate({ passthrough: 'sometimes' }), false, 'not in the enum');
  assert.equal(validate({ recording: { maxBodyBytes: 'big' } }), false, 'wrong type');
  assert.equal(validate({ identity: { issuers: [{ name: 'gh', preset: 'github' }] } }), false, 'audience is required');
});

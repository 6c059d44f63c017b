import { test } from 'node:test';
import assert from 'node:assert/strict';
import { redactForLog } from '../../../appliance/log.js';

const JWT = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLXRoYXQtbXVzdC1uZXZlci1iZS1sb2dnZWQ';

test('a JWT in a path is replaced whole, signed or not', () => {
  assert.equal(redactForLog(`/api/v1/foo/${JWT}/bar`), '/api/v1/foo/[redacted:jwt]/bar');
  assert.equal(redactForLog('/x/eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.'), '/x/[redacted:jwt]');
});

test('a session token, a key-shaped value and a known secret are replaced', () => {
  const alk = `alk_${'A'.repeat(43)}`;
  const key = '0123456789abcdef0123456789abcdef';
  assert.equal(
    redactForLog(`/a/${alk}/b/${key}/c/s3cr3t-value`, [{ value: 's3cr3t-value', label: 'agent credential' }]),
    '/a/[redacted:session token]/b/[redacted:key-shaped value]/c/[redacted:agent credential]',
  );
});

test('an ordinary path is unchanged', () => {
  assert.equal(redactForLog('/api/v1/dashboard/abc-def-ghi'), '/api/v1/dashboard/abc-def-ghi');
});

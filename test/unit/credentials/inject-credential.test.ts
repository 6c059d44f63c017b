import { test } from 'node:test';
import assert from 'node:assert/strict';
import { injectCredential } from '../../../appliance/credentials/inject-credential.js';
import type { VaultEntry } from '../../../appliance/credentials/types.js';

const at = '2025-01-01T00:00:00.000Z';
const headers = Object.freeze(['Host', 'api.datadoghq.com', 'Accept', '*/*', 'X-Other', 'v']);

test('an entry without an app key injects only DD-API-KEY and changes nothing else', () => {
  const entry: VaultEntry = { name: 'ci', apiKey: 'API', createdAt: at, updatedAt: at };
  const r = injectCredential(headers, entry);
  assert.deepEqual(r.rawHeaders, [...headers, 'DD-API-KEY', 'API']);
  assert.deepEqual(r.injected, ['header:dd-api-key']);
  assert.deepEqual(headers, ['Host', 'api.datadoghq.com', 'Accept', '*/*', 'X-Other', 'v']);
});

test('an entry with an app key injects DD-API-KEY and DD-APPLICATION-KEY', () => {
  const entry: VaultEntry = { name: 'ci', apiKey: 'API', appKey: 'APP', createdAt: at, updatedAt: at };
  const r = injectCredential(headers, entry);
  assert.deepEqual(r.rawHeaders, [...headers, 'DD-API-KEY', 'API', 'DD-APPLICATION-KEY', 'APP']);
  assert.deepEqual(r.injected, ['header:dd-api-key', 'header:dd-application-key']);
});

test('a key header left in by mistake is replaced, never sent twice', () => {
  const entry: VaultEntry = { name: 'ci', apiKey: 'API', createdAt: at, updatedAt: at };
  const r = injectCredential(['dd-api-key', 'AGENT', 'Host', 'h', 'DD_APPLICATION_KEY', 'AGENTAPP'], entry);
  assert.deepEqual(r.rawHeaders, ['Host', 'h', 'DD-API-KEY', 'API']);
});

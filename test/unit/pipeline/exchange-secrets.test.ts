import { test } from 'node:test';
import assert from 'node:assert/strict';
import { credentialSecrets, maskSecrets } from '../../../appliance/pipeline/exchange-secrets.js';

test('a response is masked for the injected keys and every vaulted key; the list is reused until the vault changes', () => {
  const entry = { apiKey: 'ddapi-injected-0001', appKey: 'ddapp-injected-0001' };
  const vault = Object.freeze(['ddapi-other-000001']);
  const first = maskSecrets(entry, vault);
  assert.deepEqual(first, ['ddapi-injected-0001', 'ddapp-injected-0001', 'ddapi-other-000001']);
  assert.equal(maskSecrets(entry, vault), first, 'same entry, same vault: the same array');
  const reloaded = Object.freeze(['ddapi-rotated-00001']);
  assert.deepEqual(
    maskSecrets(entry, reloaded),
    ['ddapi-injected-0001', 'ddapp-injected-0001', 'ddapi-rotated-00001'],
    'the injected keys stay masked after a reload drops them',
  );
  assert.deepEqual(credentialSecrets('dd', { apiKey: 'k1' }), [{ value: 'k1', label: 'credential dd api key' }]);
});

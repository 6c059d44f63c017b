import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isPublicAddress, resolveDestination } from '../../../appliance/proxy/resolve-destination.js';
import { AirlockError } from '../../../appliance/errors.js';

const noPins = { resolve: {}, caFile: null };

test('internal, metadata and IPv4-embedding IPv6 addresses are not public', () => {
  for (const ip of [
    '127.0.0.1',
    '10.0.0.1',
    '172.16.5.5',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '::1',
    '::',
    'fe80::1',
    'fd00::1',
    '::ffff:127.0.0.1',
    '64:ff9b::a00:1',
    '2002:a00:1::',
    '2001::1',
    '224.0.0.1',
    '255.255.255.255',
    'not-an-ip',
  ]) {
    assert.equal(isPublicAddress(ip), false, ip);
  }
  for (const ip of ['8.8.8.8', '3.233.146.1', '2600:1f18::1']) assert.equal(isPublicAddress(ip), true, ip);
});

test('a host resolving to loopback is refused with DESTINATION_BLOCKED', async () => {
  await assert.rejects(
    resolveDestination('sneaky.example', 443, noPins, async () => ({ address: '127.0.0.1', family: 4 })),
    (e: unknown) => e instanceof AirlockError && e.code === 'DESTINATION_BLOCKED',
  );
});

test('the resolved address is what gets dialled, once', async () => {
  let lookups = 0;
  const d = await resolveDestination('api.example', 443, noPins, async () => {
    lookups += 1;
    return { address: '3.233.146.1', family: 4 };
  });
  assert.deepEqual(
    { address: d.address, port: d.port, host: d.host, pinned: d.pinned },
    { address: '3.233.146.1', port: 443, host: 'api.example', pinned: false },
  );
  assert.equal(lookups, 1);
});

test('a host pinned in upstream.resolve is dialled at its pin, exempt from the address checks, without DNS', async () => {
  const d = await resolveDestination(
    'api.datadoghq.com',
    443,
    { resolve: { 'api.datadoghq.com': { host: '127.0.0.1', port: 8443 } }, caFile: null },
    async () => {
      throw new Error('DNS must not be asked');
    },
  );
  assert.deepEqual({ address: d.address, port: d.port, pinned: d.pinned }, { address: '127.0.0.1', port: 8443, pinned: true });
});

test('a name that does not resolve is UPSTREAM_UNREACHABLE', async () => {
  await assert.rejects(
    resolveDestination('nowhere.invalid', 443, noPins, async () => {
      throw Object.assign(new Error('nx'), { code: 'ENOTFOUND' });
    }),
    (e: unknown) => e instanceof AirlockError && e.code === 'UPSTREAM_UNREACHABLE' && !String(e.message).includes('undefined'),
  );
});

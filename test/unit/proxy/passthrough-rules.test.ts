import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isIpLiteral } from '../../../appliance/proxy/ip-literal.js';
import { InterceptedAddresses } from '../../../appliance/proxy/intercepted-addresses.js';
import { passthroughDestination } from '../../../appliance/proxy/passthrough-destination.js';
import { configSchema } from '../../../appliance/config/schema.js';
import { DATADOG_SITES } from '../../../appliance/config/datadog-sites.js';
import { isIntercepted, interceptRules } from '../../../appliance/config/host-match.js';
import { AirlockError } from '../../../appliance/errors.js';

test('every spelling a resolver turns into an address is an IP literal', () => {
  for (const h of [
    '3.233.146.10',
    '3.233.146.10.',
    '[2600:1f18::1]',
    '2600:1f18::1',
    '::ffff:127.0.0.1',
    '2130706433',
    '0x7f.1',
    '0x7F000001',
    '017700000001',
    '127.1',
    '1.2.3.0x',
    'a.b.0x10',
  ]) {
    assert.equal(isIpLiteral(h), true, h);
  }
});

test('host names, including ones with digits and hex-looking labels, are not IP literals', () => {
  for (const h of ['api.datadoghq.com', 'us3.datadoghq.com', '0x7f.example', '1e100.net', 'deadbeef', '123.example.org', 'x.0xg']) {
    assert.equal(isIpLiteral(h), false, h);
  }
});

test('intercepted addresses match across spellings: IPv4-mapped IPv6 and compressed IPv6', () => {
  const a = new InterceptedAddresses();
  a.add('3.233.146.10');
  a.add('2600:1f18::1');
  a.add('not an address');
  assert.equal(a.has('::ffff:3.233.146.10'), true);
  assert.equal(a.has('2600:1f18:0:0:0:0:0:1'), true);
  assert.equal(a.has('3.233.146.11'), false);
  assert.equal(a.size, 2);
});

test('the defaults: passthrough deny, and every documented Datadog site intercepted', () => {
  const cfg = configSchema.parse({});
  assert.equal(cfg.passthrough, 'deny');
  const rules = interceptRules(cfg.intercept);
  for (const site of DATADOG_SITES) assert.equal(isIntercepted(rules, `api.${site}`), true, site);
  for (const h of ['rum.browser-intake-datadoghq.com', 'logs.browser-intake-us2-ddog-gov.com', 'http-intake.logs.uk1.datadoghq.com'])
    assert.equal(isIntercepted(rules, h), true, h);
});

test('passthrough decisions: deny refuses first, then IP literals and intercepted addresses are blocked; pins are exempt', async () => {
  const addresses = new InterceptedAddresses();
  addresses.add('3.233.146.10');
  const lookup = async (host: string) => ({ address: host === 'alias.example' ? '3.233.146.10' : '93.184.215.14', family: 4 });
  const code = (p: Promise<unknown>) =>
    p.then(
      () => 'ok',
      (e: unknown) => (e instanceof AirlockError ? e.code : String(e)),
    );
  const deny = configSchema.parse({});
  assert.equal(await code(passthroughDestination('3.233.146.10', 443, { config: deny, addresses, lookup })), 'PASSTHROUGH_DENIED');
  const allow = configSchema.parse({ passthrough: 'allow', upstream: { resolve: { 'pinned.example': '3.233.146.10:443', '10.0.0.5': '10.0.0.5:8080' } } });
  assert.equal(await code(passthroughDestination('3.233.146.10', 443, { config: allow, addresses, lookup })), 'DESTINATION_BLOCKED');
  assert.equal(await code(passthroughDestination('alias.example', 443, { config: allow, addresses, lookup })), 'DESTINATION_BLOCKED');
  assert.equal(await code(passthroughDestination('origin.example', 443, { config: allow, addresses, lookup })), 'ok');
  assert.equal(await code(passthroughDestination('pinned.example', 443, { config: allow, addresses, lookup })), 'ok');
  assert.equal(await code(passthroughDestination('10.0.0.5', 8080, { config: allow, addresses, lookup })), 'ok');
  // An inherited property name is no pin.
  assert.equal(
    await code(passthroughDestination('constructor', 443, { config: allow, addresses, lookup: async () => ({ address: '127.0.0.1', family: 4 }) })),
    'DESTINATION_BLOCKED',
  );
});

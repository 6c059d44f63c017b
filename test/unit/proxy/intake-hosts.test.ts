// Every intake host the Datadog CI tools, tracers, the Agent and the browser SDK use, on every
// site, is intercepted by the default config (none is tunnelled blind or refused as passthrough).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DATADOG_SITES, DEFAULT_DATADOG_SITES } from '../../../appliance/config/datadog-sites.js';
import { interceptRules, isIntercepted } from '../../../appliance/config/host-match.js';

// Prefixes under each site (docs.datadoghq.com, per-product "Endpoints" pages, and the hosts the
// tools were seen to contact in test/integration/datadog-tools.test.ts).
const UNDER_SITE = [
  'api',
  'app',
  'cireport-intake',
  'citestcycle-intake',
  'citestcov-intake',
  'cicodescan-intake',
  'sourcemap-intake',
  'instrumentation-telemetry-intake',
  'event-platform-intake',
  'webhook-intake',
  'http-intake.logs',
  'agent-http-intake.logs',
  'trace.agent',
  'process',
  'orchestrator',
  'config',
  'dbm-metrics-intake',
  'ndm-intake',
  'contlcycle-intake',
  'intake.profile',
  'llmobs-intake',
  'rum.browser-intake',
  'logs.browser-intake',
  '7-63-0-app.agent',
];

test('every intake host of every site is intercepted by default, browser intakes included', () => {
  const rules = interceptRules({ datadogSites: [...DEFAULT_DATADOG_SITES], hosts: [] });
  for (const site of DATADOG_SITES) {
    for (const p of UNDER_SITE) assert.ok(isIntercepted(rules, `${p}.${site}`), `${p}.${site}`);
    // browser-intake-<site with dashes>: the one intake outside its site.
    const browser = `browser-intake-${site.replace(/\.(?=[^.]+\.[^.]+$)/, '-')}`;
    assert.ok(isIntercepted(rules, browser), browser);
  }
  assert.ok(!isIntercepted(rules, 'github.com'));
  assert.ok(!isIntercepted(rules, 'datadoghq.com.evil.example'));
});

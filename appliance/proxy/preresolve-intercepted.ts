import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { Logger } from '../log.js';
import type { Config } from '../config/schema.js';
import { apiHostOf } from '../config/datadog-sites.js';
import { isIntercepted, type InterceptRules } from '../config/host-match.js';
import type { InterceptedAddresses } from './intercepted-addresses.js';
import type { Lookup } from './resolve-destination.js';

export type LookupAll = (host: string) => Promise<ReadonlyArray<{ address: string }>>;

const defaultLookupAll: LookupAll = (host) => dnsLookup(host, { all: true, verbatim: true });

/** An injected single-answer lookup (tests) stands in for the all-answers one. */
export function lookupAllFrom(lookup: Lookup | undefined): LookupAll {
  return lookup ? async (host) => [await lookup(host)] : defaultLookupAll;
}

/**
 * Seeds the intercepted-address set at start: the pins of intercepted hosts, and what each
 * configured site's api host resolves to. Never fails start: without DNS (an offline build, a
 * resolver that is down) the set starts with the pins and grows as intercepted hosts are resolved.
 */
export async function preresolveIntercepted(
  config: Config,
  rules: InterceptRules,
  addresses: InterceptedAddresses,
  lookupAll: LookupAll,
  log: Logger,
): Promise<void> {
  const names = new Set<string>();
  for (const [host, pin] of Object.entries(config.upstream.resolve)) {
    if (!isIntercepted(rules, host)) continue;
    if (isIP(pin.host) !== 0) addresses.add(pin.host);
    else names.add(pin.host);
  }
  for (const site of config.intercept.datadogSites) {
    const api = apiHostOf(site);
    // A pinned api host is dialled at its pin, which is already in the set: no DNS for it.
    if (api !== null && !Object.hasOwn(config.upstream.resolve, api)) names.add(api);
  }
  const failed: string[] = [];
  await Promise.all(
    [...names].map(async (name) => {
      try {
        for (const r of await lookupAll(name)) addresses.add(r.address);
      } catch {
        failed.push(name);
      }
    }),
  );
  log.info({ addresses: addresses.size, unresolved: failed.length }, "intercepted hosts' addresses noted for the passthrough check");
  if (failed.length > 0) log.debug({ hosts: failed }, 'could not resolve at start (the set grows as they are used)');
}

import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { AirlockError } from '../errors.js';
import type { Config } from '../config/schema.js';

export interface Destination {
  /** What the CONNECT or URL named: used for SNI, certificate checks and the Host header. */
  readonly host: string;
  /** The address actually dialled: resolved once here, never again (no DNS rebinding window). */
  readonly address: string;
  readonly port: number;
  readonly family: 4 | 6;
  /** True when upstream.resolve named it (operator-approved, exempt from the address checks). */
  readonly pinned: boolean;
}

export type Lookup = (host: string) => Promise<{ address: string; family: number }>;

const defaultLookup: Lookup = (host) => dnsLookup(host, { verbatim: true });

/**
 * Only globally routable unicast addresses may be dialled. ipaddr.js classifies loopback,
 * private, link-local (cloud metadata), CGNAT, unspecified, ULA, multicast, reserved and every
 * IPv6 form that embeds an IPv4 address (mapped, 6to4, NAT64, Teredo) as something else.
 */
export function isPublicAddress(address: string): boolean {
  try {
    return ipaddr.parse(address).range() === 'unicast';
  } catch {
    return false;
  }
}

export async function resolveDestination(host: string, port: number, upstream: Config['upstream'], lookup: Lookup = defaultLookup): Promise<Destination> {
  // Own keys only: a CONNECT to `constructor` or `__proto__` must not find Object.prototype's.
  const pinned = Object.hasOwn(upstream.resolve, host) ? upstream.resolve[host] : undefined;
  if (pinned) {
    const family = isIP(pinned.host);
    if (family === 0) {
      // A hostname in upstream.resolve is resolved too, but stays exempt: the operator chose it.
      const r = await lookupOrFail(lookup, pinned.host);
      return { host, address: r.address, port: pinned.port, family: r.family === 6 ? 6 : 4, pinned: true };
    }
    return { host, address: pinned.host, port: pinned.port, family: family === 6 ? 6 : 4, pinned: true };
  }
  const literal = isIP(host);
  const r = literal ? { address: host, family: literal } : await lookupOrFail(lookup, host);
  if (!isPublicAddress(r.address)) {
    throw new AirlockError('DESTINATION_BLOCKED', `${host} resolves to an internal address`);
  }
  return { host, address: r.address, port, family: r.family === 6 ? 6 : 4, pinned: false };
}

async function lookupOrFail(lookup: Lookup, host: string): Promise<{ address: string; family: number }> {
  try {
    return await lookup(host);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'lookup failed';
    throw new AirlockError('UPSTREAM_UNREACHABLE', `cannot resolve ${host}: ${code}`);
  }
}

import type { Config } from './schema.js';

/** Hostnames compare lower-cased with any trailing dot dropped (newer Datadog agents send FQDNs). */
export function normalizeHost(host: string): string {
  let h = host.trim().toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  return h.endsWith('.') ? h.slice(0, -1) : h;
}

export interface InterceptRules {
  /** Suffixes: the host itself and every subdomain match. */
  readonly suffixes: readonly string[];
  readonly exact: ReadonlySet<string>;
}

/**
 * A Datadog site is intercepted whole: api.<site> and every intake host (http-intake.logs.<site>,
 * trace.agent.<site>, ...) live under it, and the CA's name constraints permit exactly that.
 */
export function interceptRules(intercept: Config['intercept']): InterceptRules {
  const suffixes: string[] = [...intercept.datadogSites];
  const exact = new Set<string>();
  for (const h of intercept.hosts) {
    if (h.startsWith('*.')) suffixes.push(h.slice(2));
    else exact.add(h);
  }
  return { suffixes, exact };
}

export function isIntercepted(rules: InterceptRules, host: string): boolean {
  const h = normalizeHost(host);
  if (rules.exact.has(h)) return true;
  return rules.suffixes.some((s) => h === s || h.endsWith(`.${s}`));
}

/**
 * The domains the CA must be able to sign for, as name-constraint subtrees. One already admitted
 * by another (us3.datadoghq.com under datadoghq.com) is left out: it would add nothing.
 */
export function permittedDomains(intercept: Config['intercept']): string[] {
  const rules = interceptRules(intercept);
  const all = [...new Set([...rules.suffixes, ...rules.exact])];
  return all.filter((d) => !rules.suffixes.some((s) => s !== d && d.endsWith(`.${s}`)));
}

/** Splits "host:port" / "[v6]:port" as found in a CONNECT target or Host header. */
export function splitHostPort(value: string, defaultPort: number): { host: string; port: number } | null {
  // Only characters a hostname or an IP literal can hold: anything else is a malformed target.
  const m = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(?::(\d{1,5}))?$/.exec(value.trim());
  if (!m) return null;
  const port = m[2] === undefined ? defaultPort : Number(m[2]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return null;
  const host = normalizeHost(m[1]!);
  if (host.length === 0 || host.length > 253) return null;
  // An empty label ("api..datadoghq.com", ".x", "x..") is no host name; it could only ever
  // differ from the intercepted spelling, never match it.
  if (!host.includes(':') && host.split('.').includes('')) return null;
  return { host, port };
}

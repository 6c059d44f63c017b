import { parseCaCert } from './ca-material.js';
import { dnsConstraintAdmits, isDnsName, normalizeHostname } from './domains.js';
import type { NameConstraints } from './name-constraints.js';

// What the CA on disk is able to sign, so `serve` can refuse to start (and tell the operator to
// run `airlock ca init --force`) instead of failing every handshake for a newly intercepted host.

/** The dNSName suffixes the CA's nameConstraints permit; [] when it has no constraints at all. */
export function permittedDomainsOf(caCertPem: string): string[] {
  return [...(parseCaCert(caCertPem).constraints?.permittedDns ?? [])];
}

/**
 * Whether constraints admit a host. Fails closed: a CA without nameConstraints, a name that is
 * not an LDH DNS name, and every IP literal are refused.
 */
export function constraintsAdmit(constraints: NameConstraints | null, hostname: string): boolean {
  if (constraints === null || constraints.permittedDns.length === 0) return false;
  const host = normalizeHostname(hostname);
  if (!isDnsName(host)) return false;
  if (constraints.excludedDns.some((c) => dnsConstraintAdmits(c, host))) return false;
  return constraints.permittedDns.some((c) => dnsConstraintAdmits(c, host));
}

/** caCertPemOrPermitted: the CA certificate (PEM), or its permitted list from permittedDomainsOf. */
export function caPermits(caCertPemOrPermitted: string | readonly string[], hostname: string): boolean {
  const constraints: NameConstraints | null =
    typeof caCertPemOrPermitted === 'string'
      ? parseCaCert(caCertPemOrPermitted).constraints
      : { permittedDns: caCertPemOrPermitted.map((d) => d.toLowerCase()), excludedDns: [] };
  return constraintsAdmit(constraints, hostname);
}

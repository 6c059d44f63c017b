import { isIP } from 'node:net';
import { CertError } from './errors.js';

// Hostname rules shared by CA creation (what goes into the name constraints) and leaf issuance
// (what a constraint admits). Matching follows RFC 5280 4.2.1.10 for dNSName: a constraint
// "example.com" admits example.com and any name made by adding labels on the left.

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/** Lower-cases and drops one trailing dot, the forms a client may send in SNI or Host. */
export function normalizeHostname(host: string): string {
  return host.trim().toLowerCase().replace(/\.$/, '');
}

/** True for an LDH DNS name that is not an IP address (IPs are excluded from the CA). */
export function isDnsName(name: string): boolean {
  if (name.length === 0 || name.length > 253 || isIP(name) !== 0) return false;
  const labels = name.split('.');
  if (!labels.every((l) => LABEL.test(l))) return false;
  // An all-numeric last label is how IPv4 literals in odd forms (1.2.3.0x10, 017.1) slip past isIP.
  return !/^[0-9]+$/.test(labels[labels.length - 1] ?? '');
}

/**
 * A config entry as a name constraint: "*.example.com" becomes "example.com" (a dNSName
 * constraint already admits every subdomain); "datadoghq.com" and exact hosts stay as they are.
 */
function toPermittedDomain(entry: string): string {
  const name = normalizeHostname(entry).replace(/^\*\./, '');
  if (!isDnsName(name)) {
    throw new CertError('BAD_DOMAIN', `not a DNS name the CA can be constrained to: ${JSON.stringify(entry)}`);
  }
  return name;
}

/** Normalised, de-duplicated constraint list; refuses an empty list, which would constrain nothing. */
export function toPermittedDomains(entries: readonly string[]): string[] {
  const out = [...new Set(entries.map(toPermittedDomain))];
  if (out.length === 0) {
    throw new CertError('BAD_DOMAIN', 'the CA needs at least one permitted domain (intercept.datadogSites or intercept.hosts)');
  }
  return out;
}

/** Whether one dNSName constraint admits the (normalised) host. */
export function dnsConstraintAdmits(constraint: string, host: string): boolean {
  const base = constraint.toLowerCase();
  if (base === '') return true;
  return host === base || host.endsWith(`.${base}`);
}

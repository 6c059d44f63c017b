import { isIP } from 'node:net';

/**
 * Whether a CONNECT target or SNI names an address rather than a DNS name, in any spelling a
 * resolver would turn into one: dotted IPv4, IPv6 (bracketed or not), and the inet_aton forms that
 * getaddrinfo and WHATWG URL parsers accept (2130706433, 0x7f.1, 017700000001, 127.1, 0x3.0xe9.146.10).
 * The rule for the odd forms is the URL standard's "ends in a number": a host whose last label is
 * decimal digits or 0x-hex is an IPv4 address to a parser, and no DNS top-level domain is numeric,
 * so refusing those costs no real name.
 */
export function isIpLiteral(host: string): boolean {
  let h = host.trim().toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  if (h.endsWith('.')) h = h.slice(0, -1);
  if (isIP(h) !== 0 || h.includes(':')) return true;
  const last = h.slice(h.lastIndexOf('.') + 1);
  return /^(?:[0-9]+|0x[0-9a-f]*)$/.test(last);
}

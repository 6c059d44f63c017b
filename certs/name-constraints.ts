import forge from 'node-forge';
import { CertError } from './errors.js';

// node-forge has no nameConstraints builder or parser, so the extension value is built and
// read here with forge.asn1 (RFC 5280 4.2.1.10, implicit tagging):
//   NameConstraints ::= SEQUENCE { permittedSubtrees [0] GeneralSubtrees OPTIONAL,
//                                  excludedSubtrees  [1] GeneralSubtrees OPTIONAL }
//   GeneralSubtree  ::= SEQUENCE { base GeneralName, ... }   -- minimum/maximum left at defaults
//   GeneralName: dNSName [2] IA5String, iPAddress [7] OCTET STRING (address || mask)

export const NAME_CONSTRAINTS_OID = '2.5.29.30';

const { asn1 } = forge;
const TAG_DNS = 2;
const TAG_IP = 7;

export interface NameConstraints {
  readonly permittedDns: readonly string[];
  readonly excludedDns: readonly string[];
}

function subtree(tag: number, value: string): forge.asn1.Asn1 {
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [asn1.create(asn1.Class.CONTEXT_SPECIFIC, tag, false, value)]);
}

/**
 * The raw extension for forge's setExtensions: only the given DNS suffixes are permitted and
 * every IPv4 and IPv6 address is excluded, so the key cannot mint a certificate for any other
 * site or for an IP literal.
 */
export function nameConstraintsExtension(permittedDomains: readonly string[]): {
  id: string;
  critical: true;
  value: string;
} {
  const permitted = permittedDomains.map((d) => subtree(TAG_DNS, d));
  const excluded = [subtree(TAG_IP, '\0'.repeat(8)), subtree(TAG_IP, '\0'.repeat(32))];
  const value = asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
    asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, true, permitted),
    asn1.create(asn1.Class.CONTEXT_SPECIFIC, 1, true, excluded),
  ]);
  return { id: NAME_CONSTRAINTS_OID, critical: true, value: asn1.toDer(value).getBytes() };
}

function dnsNamesOf(subtrees: forge.asn1.Asn1 | undefined): string[] {
  if (!subtrees || !Array.isArray(subtrees.value)) return [];
  const out: string[] = [];
  for (const st of subtrees.value) {
    const base = Array.isArray(st.value) ? st.value[0] : undefined;
    if (base && base.tagClass === asn1.Class.CONTEXT_SPECIFIC && base.type === TAG_DNS && typeof base.value === 'string') {
      out.push(base.value.toLowerCase());
    }
  }
  return out;
}

/** Reads the DNS parts of a nameConstraints extension value (DER bytes as a binary string). */
export function parseNameConstraints(der: string): NameConstraints {
  let root: forge.asn1.Asn1;
  try {
    root = asn1.fromDer(der);
  } catch (err) {
    throw new CertError('CA_INVALID', 'the CA certificate has a malformed nameConstraints extension', { cause: err });
  }
  if (!Array.isArray(root.value)) {
    throw new CertError('CA_INVALID', 'the CA certificate has a malformed nameConstraints extension');
  }
  const part = (tag: number) =>
    root.value instanceof Array ? root.value.find((v) => v.tagClass === asn1.Class.CONTEXT_SPECIFIC && v.type === tag) : undefined;
  return { permittedDns: dnsNamesOf(part(0)), excludedDns: dnsNamesOf(part(1)) };
}

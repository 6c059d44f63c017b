import { parseCaCert } from './ca-material.js';

export interface CaDescription {
  readonly subject: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** Colon-separated upper-case hex, as `openssl x509 -fingerprint -sha256` prints it. */
  readonly fingerprintSha256: string;
  readonly permittedDomains: string[];
}

/** What `airlock ca cert` / `ca init` print about a CA certificate; reads no key. */
export function describeCa(certPem: string): CaDescription {
  const ca = parseCaCert(certPem);
  return {
    subject: ca.x509.subject.split('\n').join(', '),
    notBefore: ca.notBefore,
    notAfter: ca.notAfter,
    fingerprintSha256: ca.x509.fingerprint256,
    permittedDomains: [...(ca.constraints?.permittedDns ?? [])],
  };
}

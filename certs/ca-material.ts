import { X509Certificate } from 'node:crypto';
import forge from 'node-forge';
import { CertError } from './errors.js';
import { NAME_CONSTRAINTS_OID, parseNameConstraints, type NameConstraints } from './name-constraints.js';
import { rsaKeyFromPem, type RsaKey } from './rsa.js';

/** The CA as files hold it. keyPem is a secret: never log it or put it in a message. */
export interface CaMaterial {
  readonly certPem: string;
  readonly keyPem: string;
}

/** A CA certificate read once, with what issuing a leaf needs from it. */
export interface ParsedCaCert {
  readonly certPem: string;
  readonly cert: forge.pki.Certificate;
  readonly x509: X509Certificate;
  /** SHA-1 key id from the subjectKeyIdentifier extension, as forge's binary string. */
  readonly subjectKeyId: string;
  /** null when the certificate carries no nameConstraints extension at all. */
  readonly constraints: NameConstraints | null;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

export interface ParsedCa extends ParsedCaCert {
  readonly key: RsaKey;
}

export function parseCaCert(certPem: string): ParsedCaCert {
  let cert: forge.pki.Certificate;
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(certPem);
    cert = forge.pki.certificateFromPem(certPem);
  } catch (err) {
    throw new CertError('CA_INVALID', 'the CA certificate could not be parsed (expected one RSA certificate in PEM)', { cause: err });
  }
  if (!x509.ca) throw new CertError('CA_INVALID', 'the CA certificate is not a CA (basicConstraints CA:true is missing)');
  const ski = cert.getExtension('subjectKeyIdentifier') as { subjectKeyIdentifier?: string } | null;
  if (!ski?.subjectKeyIdentifier) {
    throw new CertError('CA_INVALID', 'the CA certificate has no subjectKeyIdentifier, so leaves could not name it');
  }
  const nc = (cert.extensions as { id?: string; value?: unknown }[]).find((e) => e.id === NAME_CONSTRAINTS_OID);
  return {
    certPem,
    cert,
    x509,
    subjectKeyId: forge.util.hexToBytes(ski.subjectKeyIdentifier),
    constraints: typeof nc?.value === 'string' ? parseNameConstraints(nc.value) : null,
    notBefore: cert.validity.notBefore,
    notAfter: cert.validity.notAfter,
  };
}

/** Parses both halves and checks the key belongs to the certificate. */
export function parseCa(ca: CaMaterial): ParsedCa {
  const parsed = parseCaCert(ca.certPem);
  let key: RsaKey;
  try {
    key = rsaKeyFromPem(ca.keyPem);
  } catch (err) {
    throw new CertError('CA_INVALID', 'the CA key could not be parsed (expected an unencrypted RSA private key in PEM)', { cause: err });
  }
  if (!parsed.x509.checkPrivateKey(key.keyObject)) {
    throw new CertError('CA_KEY_MISMATCH', 'the CA key does not belong to the CA certificate');
  }
  return { ...parsed, key };
}

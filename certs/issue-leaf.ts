import { sign } from 'node:crypto';
import forge from 'node-forge';
import type { ParsedCa } from './ca-material.js';
import { constraintsAdmit } from './ca-permits.js';
import { CLOCK_SKEW_MS } from './create-ca.js';
import { CertError } from './errors.js';
import type { LeafKey } from './leaf-key.js';
import { randomSerialHex } from './rsa.js';

export const MAX_LEAF_VALIDITY_MS = 30 * 24 * 60 * 60 * 1000;

export interface LeafRequest {
  readonly ca: ParsedCa;
  readonly leafKey: LeafKey;
  /** Already normalised (lower case, no trailing dot). */
  readonly host: string;
  readonly nowMs: number;
  readonly validityMs: number;
}

export interface IssuedLeaf {
  readonly certPem: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** True when the CA's own expiry, not validityMs, set notAfter. */
  readonly cappedByCa: boolean;
}

// X.520 ub-common-name; a longer host goes only in the SAN (made critical, as RFC 5280 asks
// when the subject is empty).
const MAX_CN = 64;

const floorToSecond = (ms: number): number => Math.floor(ms / 1000) * 1000;

const SHA256_WITH_RSA = '1.2.840.113549.1.1.11';

// forge's Certificate object only takes an RSA public key, so the leaf's TBSCertificate is built
// with this stand-in (n = e = 1, never a usable key) and its SubjectPublicKeyInfo then replaced
// by the EC one; the DER check below refuses to sign if forge ever laid the TBS out otherwise.
const one = new forge.jsbn.BigInteger('1', 10);
const PLACEHOLDER_KEY = forge.pki.setRsaPublicKey(one, one);
const PLACEHOLDER_SPKI_DER = forge.asn1.toDer(forge.pki.publicKeyToAsn1(PLACEHOLDER_KEY)).getBytes();
// version, serialNumber, signature, issuer, validity, subject, subjectPublicKeyInfo (RFC 5280 4.1).
const SPKI_INDEX = 6;

// Exported by node-forge (lib/x509.js) but missing from @types/node-forge.
const getTBSCertificate = (forge.pki as unknown as { getTBSCertificate: (cert: forge.pki.Certificate) => forge.asn1.Asn1 }).getTBSCertificate;

/** One server certificate for one host, signed by the CA; refuses hosts the CA may not name. */
export function issueLeaf(req: LeafRequest): IssuedLeaf {
  const { ca, host } = req;
  if (!constraintsAdmit(ca.constraints, host)) {
    throw new CertError('HOST_NOT_PERMITTED', `the CA's name constraints do not permit ${JSON.stringify(host)}`);
  }
  const notBefore = floorToSecond(Math.max(req.nowMs - CLOCK_SKEW_MS, ca.notBefore.getTime()));
  const wanted = notBefore + Math.min(req.validityMs, MAX_LEAF_VALIDITY_MS);
  const caEnd = ca.notAfter.getTime();
  const notAfter = floorToSecond(Math.min(wanted, caEnd));
  if (notAfter <= req.nowMs) {
    throw new CertError('CA_EXPIRED', `the CA expired at ${ca.notAfter.toISOString()}: run \`airlock ca init --force\``);
  }

  const cert = forge.pki.createCertificate();
  cert.publicKey = PLACEHOLDER_KEY;
  cert.serialNumber = randomSerialHex();
  cert.validity.notBefore = new Date(notBefore);
  cert.validity.notAfter = new Date(notAfter);
  const shortCn = host.length <= MAX_CN;
  cert.setSubject(shortCn ? [{ shortName: 'CN', value: host }] : []);
  cert.setIssuer(ca.cert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    // An ECDSA key only signs (keyEncipherment is for RSA key transport).
    { name: 'keyUsage', critical: true, digitalSignature: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', critical: !shortCn, altNames: [{ type: 2, value: host }] },
    // Given explicitly: forge would hash the placeholder.
    {
      name: 'subjectKeyIdentifier',
      value: forge.asn1.create(forge.asn1.Class.UNIVERSAL, forge.asn1.Type.OCTETSTRING, false, req.leafKey.subjectKeyId),
    },
    { name: 'authorityKeyIdentifier', keyIdentifier: ca.subjectKeyId },
  ]);
  cert.siginfo.algorithmOid = cert.signatureOid = SHA256_WITH_RSA;
  const tbs = getTBSCertificate(cert);
  const fields = tbs.value as forge.asn1.Asn1[];
  const placeholder = fields[SPKI_INDEX];
  if (!placeholder || forge.asn1.toDer(placeholder).getBytes() !== PLACEHOLDER_SPKI_DER) {
    throw new Error('unexpected TBSCertificate layout from node-forge: refusing to issue a leaf');
  }
  fields[SPKI_INDEX] = req.leafKey.spki;
  cert.tbsCertificate = tbs;
  // RSASSA-PKCS1-v1_5 with SHA-256 by the CA key, in OpenSSL (forge's JS RSA is far slower).
  cert.signature = sign('sha256', Buffer.from(forge.asn1.toDer(tbs).getBytes(), 'binary'), ca.key.keyObject).toString('binary');
  return {
    certPem: forge.pki.certificateToPem(cert),
    notBefore: new Date(notBefore),
    notAfter: new Date(notAfter),
    cappedByCa: notAfter >= floorToSecond(caEnd),
  };
}

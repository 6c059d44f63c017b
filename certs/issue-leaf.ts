import forge from 'node-forge';
import type { ParsedCa } from './ca-material.js';
import { constraintsAdmit } from './ca-permits.js';
import { CLOCK_SKEW_MS } from './create-ca.js';
import { CertError } from './errors.js';
import { nodeSigner, randomSerialHex, type RsaKey } from './rsa.js';

export const MAX_LEAF_VALIDITY_MS = 30 * 24 * 60 * 60 * 1000;

export interface LeafRequest {
  readonly ca: ParsedCa;
  readonly leafKey: RsaKey;
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
  cert.publicKey = req.leafKey.forgePublicKey;
  cert.serialNumber = randomSerialHex();
  cert.validity.notBefore = new Date(notBefore);
  cert.validity.notAfter = new Date(notAfter);
  const shortCn = host.length <= MAX_CN;
  cert.setSubject(shortCn ? [{ shortName: 'CN', value: host }] : []);
  cert.setIssuer(ca.cert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', critical: true, digitalSignature: true, keyEncipherment: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', critical: !shortCn, altNames: [{ type: 2, value: host }] },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: ca.subjectKeyId },
  ]);
  cert.sign(nodeSigner(ca.key.keyObject), forge.md.sha256.create());
  return {
    certPem: forge.pki.certificateToPem(cert),
    notBefore: new Date(notBefore),
    notAfter: new Date(notAfter),
    cappedByCa: notAfter >= floorToSecond(caEnd),
  };
}

import { createHash, generateKeyPairSync } from 'node:crypto';
import forge from 'node-forge';

// The key every intercepted handshake signs with. P-256 ECDSA, not RSA-2048: each new TLS
// connection costs the server one signature with it, and on these machines (openssl speed) an
// RSA-2048 signature takes ~260 µs against ~17 µs for P-256. The client pays the other way round,
// less: it verifies that signature in ~59 µs instead of ~15 µs. The CA stays RSA (installed trust
// and name constraints unchanged); a CA may sign a leaf of any key type.

export interface LeafKey {
  /** PKCS#8 PEM, for tls.createSecureContext. A secret. */
  readonly pem: string;
  /**
   * The public half as a DER SubjectPublicKeyInfo in forge's ASN.1 form, spliced into each
   * leaf's TBSCertificate (forge's Certificate object only holds RSA keys). Read-only.
   */
  readonly spki: forge.asn1.Asn1;
  /** SHA-1 of the subjectPublicKey BIT STRING's contents (RFC 5280 4.2.1.2, method 1), binary string. */
  readonly subjectKeyId: string;
}

/** Made once per process (as the RSA key was): nothing generates a key on the request path. */
export function generateLeafKey(): LeafKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const spkiDer = publicKey.export({ type: 'spki', format: 'der' });
  // The uncompressed point 04 || x || y is the BIT STRING's content after its unused-bits octet;
  // built from the JWK rather than cut from the DER, then checked against the DER's tail.
  const jwk = publicKey.export({ format: 'jwk' });
  const point = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x ?? '', 'base64url'), Buffer.from(jwk.y ?? '', 'base64url')]);
  if (point.length !== 65 || !spkiDer.subarray(spkiDer.length - 65).equals(point) || spkiDer[spkiDer.length - 66] !== 0) {
    throw new Error('unexpected P-256 SubjectPublicKeyInfo layout');
  }
  const spki = forge.asn1.fromDer(spkiDer.toString('binary'));
  // forge re-encodes a parsed BIT STRING from its saved contents; check, so a leaf can never carry
  // a key other than this one.
  if (forge.asn1.toDer(spki).getBytes() !== spkiDer.toString('binary')) throw new Error('the leaf SubjectPublicKeyInfo does not round-trip through forge');
  return {
    pem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    spki,
    subjectKeyId: createHash('sha1').update(point).digest('binary'),
  };
}

import { constants, createPrivateKey, generateKeyPairSync, privateEncrypt, randomBytes, type KeyObject } from 'node:crypto';
import forge from 'node-forge';

// Keys come from Node's crypto (OpenSSL) and signatures too: forge's pure-JS RSA takes ~180 ms
// to generate a key and ~35 ms to sign on these machines, which would stall the event loop on
// the request path. forge only assembles the certificate structure.

export interface RsaKey {
  /** PKCS#8 PEM, for files and tls.createSecureContext. */
  readonly pem: string;
  readonly keyObject: KeyObject;
  /** The public half as forge wants it for cert.publicKey. */
  readonly forgePublicKey: forge.pki.rsa.PublicKey;
}

export function generateRsaKey(): RsaKey {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return rsaKeyFromPem(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
}

/** Throws (without echoing the key) when the PEM is not an RSA private key. */
export function rsaKeyFromPem(pem: string): RsaKey {
  const keyObject = createPrivateKey(pem);
  if (keyObject.asymmetricKeyType !== 'rsa') throw new Error(`expected an RSA key, got ${keyObject.asymmetricKeyType ?? 'unknown'}`);
  const priv = forge.pki.privateKeyFromPem(pem);
  return { pem, keyObject, forgePublicKey: forge.pki.setRsaPublicKey(priv.n, priv.e) };
}

// DER prefix of DigestInfo { sha256, NULL } (RFC 8017 9.2, note 1).
const SHA256_DIGEST_INFO = Buffer.from('3031300d060960864801650304020105000420', 'hex');

/**
 * A stand-in for forge's private key in cert.sign(): forge hashes the TBSCertificate and hands
 * over the digest; RSASSA-PKCS1-v1_5 is the private-key operation on DigestInfo with type-1
 * padding, which is what privateEncrypt with RSA_PKCS1_PADDING does.
 */
export function nodeSigner(key: KeyObject): forge.pki.rsa.PrivateKey {
  const signer = {
    sign(md: forge.md.MessageDigest): string {
      if (md.algorithm !== 'sha256') throw new Error(`unsupported digest ${md.algorithm}`);
      const digest = Buffer.from(md.digest().getBytes(), 'binary');
      const sig = privateEncrypt({ key, padding: constants.RSA_PKCS1_PADDING }, Buffer.concat([SHA256_DIGEST_INFO, digest]));
      return sig.toString('binary');
    },
  };
  // cert.sign() only ever calls key.sign(md); the cast gives forge the one method it uses.
  return signer as unknown as forge.pki.rsa.PrivateKey;
}

/**
 * A positive 128-bit serial as hex. The top bit is cleared so the DER INTEGER is positive, and a
 * zero first byte is redrawn so the 16-byte encoding stays minimal (strict DER parsers reject a
 * leading zero byte before a clear top bit).
 */
export function randomSerialHex(): string {
  for (;;) {
    const b = randomBytes(16);
    const first = (b[0] ?? 0) & 0x7f;
    if (first === 0) continue;
    b[0] = first;
    return b.toString('hex');
  }
}

// `<id>.har.sig`: a detached JWS (RFC 7515 appendix F, with RFC 7797 b64:false) over the exact
// bytes of `<id>.har`, signed EdDSA/Ed25519. Its compact form is `<protected>..<signature>`;
// any JOSE library verifies it with the HAR bytes as the (unencoded) payload.
import { flattenedVerify, FlattenedSign, type JWK } from 'jose';
import { createPublicKey, type KeyObject } from 'node:crypto';
import type { SigningKey } from './signing-key.js';

/** Ed25519 cannot sign a stream (PureEdDSA hashes the message twice): the HAR is read whole, up to this. */
export const MAX_SIGNED_HAR_BYTES = 1024 * 1024 * 1024;

export async function signHar(har: Uint8Array, key: SigningKey): Promise<string> {
  const jws = await new FlattenedSign(har)
    .setProtectedHeader({ alg: 'EdDSA', b64: false, crit: ['b64'], kid: key.kid, typ: 'airlock-har+jws' })
    .sign(key.privateKey);
  return `${jws.protected ?? ''}..${jws.signature}`;
}

export type SignatureCheck = { readonly ok: true; readonly kid: string | undefined } | { readonly ok: false; readonly reason: string };

function publicKeyOf(jwk: JWK): KeyObject {
  if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || typeof jwk.x !== 'string') throw new Error('not an Ed25519 public JWK');
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: jwk.x }, format: 'jwk' });
}

export async function verifyHarSignature(har: Uint8Array, detached: string, publicJwk: JWK): Promise<SignatureCheck> {
  const parts = detached.trim().split('.');
  if (parts.length !== 3 || parts[1] !== '' || !parts[0] || !parts[2])
    return { ok: false, reason: 'the .sig file is not a detached compact JWS (<protected>..<signature>)' };
  let key: KeyObject;
  try {
    key = publicKeyOf(publicJwk);
  } catch (err) {
    return { ok: false, reason: `the public key is unusable: ${(err as Error).message}` };
  }
  try {
    const r = await flattenedVerify({ protected: parts[0], payload: har, signature: parts[2] }, key, { algorithms: ['EdDSA'], crit: { b64: true } });
    if (r.protectedHeader?.b64 !== false) return { ok: false, reason: 'the signature does not cover the raw HAR bytes (b64 must be false)' };
    return { ok: true, kid: r.protectedHeader?.kid };
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    return {
      ok: false,
      reason:
        code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED'
          ? 'the signature does not match the HAR bytes (altered file, or another key)'
          : `the signature is malformed: ${(err as Error).message}`,
    };
  }
}

/** The kid a detached JWS names in its protected header, or null (an unsigned or foreign file). */
export function kidOfSignature(detached: string): string | null {
  const head = detached.trim().split('.')[0] ?? '';
  try {
    const h = JSON.parse(Buffer.from(head, 'base64url').toString('utf8')) as { kid?: unknown };
    return typeof h.kid === 'string' ? h.kid : null;
  } catch {
    return null;
  }
}

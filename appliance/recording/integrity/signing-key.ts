// The appliance's Ed25519 signing key, `<state>/signing.key` (a private JWK, 0600), made at
// first start. It signs every finalized HAR (sign-har.ts); `airlock signing-key public` prints
// the public half for auditors. The private half never leaves this file and this process.
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { chmod, mkdir, open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { calculateJwkThumbprint, type JWK } from 'jose';
import { DIR_MODE, errCode, FILE_MODE, fsyncDir, writeFully } from '../../lib/file-io.js';
import { CodedError } from '../../errors.js';

const SIGNING_KEY_FILE = 'signing.key';
const MAX_KEY_BYTES = 64 * 1024;

export interface SigningKey {
  readonly privateKey: KeyObject;
  /** {kty, crv, x, kid, alg, use}: safe to print and to hand to auditors. */
  readonly publicJwk: JWK;
  readonly kid: string;
}

export class SigningKeyError extends CodedError<'SIGNING_KEY_MISSING' | 'SIGNING_KEY_INVALID'> {}

export function signingKeyPath(stateDir: string): string {
  return join(stateDir, SIGNING_KEY_FILE);
}

async function fromPrivateJwk(jwk: JWK): Promise<SigningKey> {
  if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || typeof jwk.d !== 'string' || typeof jwk.x !== 'string') {
    throw new SigningKeyError('SIGNING_KEY_INVALID', 'the signing key is not an Ed25519 private JWK');
  }
  const privateKey = createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', d: jwk.d, x: jwk.x }, format: 'jwk' });
  const pub = createPublicKey(privateKey).export({ format: 'jwk' }) as JWK;
  const kid = await calculateJwkThumbprint({ kty: 'OKP', crv: 'Ed25519', x: pub.x ?? '' });
  return { privateKey, kid, publicJwk: { kty: 'OKP', crv: 'Ed25519', x: pub.x ?? '', kid, alg: 'EdDSA', use: 'sig' } };
}

/** Reads the key; SIGNING_KEY_MISSING when there is none yet. */
export async function loadSigningKey(stateDir: string): Promise<SigningKey> {
  let text: string;
  try {
    const buf = await readFile(signingKeyPath(stateDir));
    if (buf.length > MAX_KEY_BYTES) throw new SigningKeyError('SIGNING_KEY_INVALID', 'the signing key file is far too large');
    text = buf.toString('utf8');
  } catch (err) {
    if (err instanceof SigningKeyError) throw err;
    if (errCode(err) === 'ENOENT') throw new SigningKeyError('SIGNING_KEY_MISSING', `no signing key at ${signingKeyPath(stateDir)} (airlock serve creates it)`);
    throw new SigningKeyError('SIGNING_KEY_INVALID', `cannot read the signing key: ${errCode(err)}`);
  }
  let jwk: JWK;
  try {
    jwk = JSON.parse(text) as JWK;
  } catch {
    throw new SigningKeyError('SIGNING_KEY_INVALID', 'the signing key file is not JSON');
  }
  try {
    return await fromPrivateJwk(jwk);
  } catch (err) {
    if (err instanceof SigningKeyError) throw err;
    throw new SigningKeyError('SIGNING_KEY_INVALID', 'the signing key file does not hold a usable Ed25519 key');
  }
}

/** Loads the key, creating it (0600, exclusive create: two starters never overwrite each other) when missing. */
export async function loadOrCreateSigningKey(stateDir: string): Promise<{ key: SigningKey; created: boolean }> {
  try {
    return { key: await loadSigningKey(stateDir), created: false };
  } catch (err) {
    if (!(err instanceof SigningKeyError) || err.code !== 'SIGNING_KEY_MISSING') throw err;
  }
  await mkdir(stateDir, { recursive: true, mode: DIR_MODE });
  const { privateKey } = generateKeyPairSync('ed25519');
  const jwk = privateKey.export({ format: 'jwk' });
  let fh;
  try {
    fh = await open(signingKeyPath(stateDir), 'wx', FILE_MODE);
  } catch (e) {
    if (errCode(e) === 'EEXIST') return { key: await loadSigningKey(stateDir), created: false };
    throw e;
  }
  try {
    await writeFully(fh, `${JSON.stringify(jwk)}\n`);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await chmod(signingKeyPath(stateDir), FILE_MODE);
  await fsyncDir(stateDir);
  return { key: await loadSigningKey(stateDir), created: true };
}

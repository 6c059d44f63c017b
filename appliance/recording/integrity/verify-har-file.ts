// `airlock sessions verify FILE`: the signature over the exact bytes, then the entry chain.
import { readFile, stat } from 'node:fs/promises';
import type { JWK } from 'jose';
import { errCode } from '../../lib/file-io.js';
import { MAX_SIGNED_HAR_BYTES, verifyHarSignature } from './sign-har.js';
import { verifyChain, type ChainVerdict } from './verify-chain.js';
import { CodedError } from '../../errors.js';

export interface HarVerification {
  readonly ok: boolean;
  readonly file: string;
  readonly signature: { readonly ok: boolean; readonly detail: string; readonly kid?: string };
  readonly chain: ChainVerdict;
}

export class VerifyError extends CodedError<'HAR_UNREADABLE' | 'HAR_TOO_LARGE'> {}

/**
 * `noKey`, when given, is what the verdict says when publicJwk is null (e.g. a key outside the
 * trusted set); `sigFile` is the detached signature, default `<file>.sig` (where `sessions export -o` writes it).
 */
export async function verifyHarFile(
  file: string,
  publicJwk: JWK | null,
  publicKeySource: string,
  noKey?: string,
  sigFile = `${file}.sig`,
): Promise<HarVerification> {
  let bytes: Buffer;
  try {
    const st = await stat(file);
    if (st.size > MAX_SIGNED_HAR_BYTES) throw new VerifyError('HAR_TOO_LARGE', `${file} is larger than ${MAX_SIGNED_HAR_BYTES} bytes`);
    bytes = await readFile(file);
  } catch (err) {
    if (err instanceof VerifyError) throw err;
    throw new VerifyError('HAR_UNREADABLE', `cannot read ${file}: ${errCode(err)}`);
  }
  let sig: string | null;
  try {
    sig = (await readFile(sigFile, 'utf8')).slice(0, 64 * 1024);
  } catch {
    sig = null;
  }
  let signature: HarVerification['signature'];
  if (sig === null) signature = { ok: false, detail: `no signature: ${sigFile} is missing (pass --sig FILE if it lives elsewhere)` };
  else if (!publicJwk) signature = { ok: false, detail: noKey ?? `no public key to check it with (${publicKeySource})` };
  else {
    const r = await verifyHarSignature(bytes, sig, publicJwk);
    signature = r.ok
      ? { ok: true, detail: `valid (EdDSA, key ${r.kid ?? '?'} from ${publicKeySource})`, ...(r.kid ? { kid: r.kid } : {}) }
      : { ok: false, detail: r.reason };
  }
  const chain = verifyChain(bytes);
  return { ok: signature.ok && chain.ok, file, signature, chain };
}

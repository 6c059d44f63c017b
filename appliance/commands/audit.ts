// `airlock sessions verify FILE` and `airlock signing-key public`.
import { readFile } from 'node:fs/promises';
import type { JWK } from 'jose';
import { loadSigningKey, SigningKeyError, signingKeyPath } from '../recording/signing-key.js';
import { verifyHarFile, VerifyError } from '../recording/verify-har-file.js';
import { CliError, load, type CommonArgs } from './context.js';

export async function signingKeyPublicCommand(args: CommonArgs): Promise<string> {
  const { config } = load(args);
  try {
    const key = await loadSigningKey(config.stateDir);
    return JSON.stringify(key.publicJwk, null, 2);
  } catch (err) {
    if (err instanceof SigningKeyError) throw new CliError(err.code, err.message);
    throw err;
  }
}

async function publicKeyFor(args: CommonArgs & { 'public-key'?: string | undefined }): Promise<{ jwk: JWK | null; source: string }> {
  const file = args['public-key'];
  if (file !== undefined) {
    let v: unknown;
    try {
      v = JSON.parse((await readFile(file, 'utf8')).slice(0, 64 * 1024));
    } catch (err) {
      throw new CliError('PUBLIC_KEY_INVALID', `cannot read a JWK from ${file}: ${(err as Error).message}`, 2);
    }
    const jwk = v as JWK;
    if (typeof jwk !== 'object' || jwk === null || 'd' in jwk) {
      throw new CliError('PUBLIC_KEY_INVALID', `${file} must hold a public JWK (airlock signing-key public), not a private key`, 2);
    }
    return { jwk, source: file };
  }
  const { config } = load(args);
  try {
    return { jwk: (await loadSigningKey(config.stateDir)).publicJwk, source: signingKeyPath(config.stateDir) };
  } catch (err) {
    if (err instanceof SigningKeyError) return { jwk: null, source: `${err.message}; pass --public-key` };
    throw err;
  }
}

/** Prints the verdict; exit 1 when the signature or the chain fails. */
export async function sessionsVerifyCommand(args: CommonArgs & { file: string; 'public-key'?: string | undefined; json?: boolean }): Promise<string> {
  const key = await publicKeyFor(args);
  let r;
  try {
    r = await verifyHarFile(args.file, key.jwk, key.source);
  } catch (err) {
    if (err instanceof VerifyError) throw new CliError(err.code, err.message);
    throw err;
  }
  if (!r.ok) process.exitCode = 1;
  if (args.json) return JSON.stringify(r, null, 2);
  const c = r.chain;
  const chainLine = c.ok ? `intact (${c.entries} entries)` : `BROKEN: ${c.problem?.message ?? 'unknown'}${c.problem?.code ? ` [${c.problem.code}]` : ''}`;
  return [
    `file:      ${r.file}`,
    `signature: ${r.signature.ok ? '' : 'INVALID: '}${r.signature.detail}`,
    `chain:     ${chainLine}`,
    `verdict:   ${r.ok ? 'OK' : 'FAILED'}`,
  ].join('\n');
}

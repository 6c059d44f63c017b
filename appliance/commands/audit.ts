// `airlock sessions verify FILE` and `airlock signing-key public`.
import { readFile } from 'node:fs/promises';
import type { JWK } from 'jose';
import { kidOfSignature, loadSigningKey, SigningKeyError, signingKeyPath, VerifyError, verifyHarFile } from '../recording/integrity/index.js';
import { CliError, load, type CommonArgs } from './context.js';
import { codeOr } from '../errors.js';

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

export interface VerifyArgs extends CommonArgs {
  file: string;
  /** The detached signature (default FILE.sig). */
  sig?: string | undefined;
  'public-key'?: string | undefined;
  keys?: string | undefined;
  sink?: boolean | undefined;
  json?: boolean;
}

/**
 * The key to check `file` with, from the trusted set (--keys DIR or --sink) by the kid its .sig
 * names; or the one key of --public-key or this appliance.
 */
async function keyFor(args: VerifyArgs): Promise<{ jwk: JWK | null; source: string; noKey?: string }> {
  const given = [args['public-key'] !== undefined, args.keys !== undefined, args.sink === true].filter(Boolean).length;
  if (given > 1) throw new CliError('BAD_USAGE', 'give one of --public-key, --keys DIR or --sink', 2);
  if (args.keys === undefined && !args.sink) return publicKeyFor(args);
  const { trustedKeysFor } = await import('./fleet-trust.js');
  const trusted = await trustedKeysFor(args);
  try {
    const sig = await readFile(args.sig ?? `${args.file}.sig`, 'utf8').catch(() => null);
    const kid = sig === null ? null : kidOfSignature(sig);
    if (kid === null)
      return { jwk: null, source: trusted.where, ...(sig === null ? {} : { noKey: 'the .sig names no key (kid): it was not made by an Airlock appliance' }) };
    const jwk = await trusted.keys.find(kid).catch((err: unknown) => {
      throw new CliError(codeOr((err as { code?: unknown }).code, 'PUBLIC_KEY_INVALID'), (err as Error).message);
    });
    return jwk
      ? { jwk, source: trusted.keys.where }
      : {
          jwk: null,
          source: trusted.keys.where,
          noKey: `signed by key ${kid}, which is not in the trusted set (${trusted.keys.where}): KEY_UNTRUSTED. Trust it only if an appliance you run published it`,
        };
  } finally {
    trusted.close();
  }
}

/** Prints the verdict; exit 1 when the signature or the chain fails. */
export async function sessionsVerifyCommand(args: VerifyArgs): Promise<string> {
  const key = await keyFor(args);
  let r;
  try {
    r = await verifyHarFile(args.file, key.jwk, key.source, key.noKey, args.sig ?? `${args.file}.sig`);
  } catch (err) {
    if (err instanceof VerifyError) throw new CliError(err.code, err.message);
    throw err;
  }
  return verdictText(r, args.json === true);
}

export function verdictText(r: Awaited<ReturnType<typeof verifyHarFile>>, json: boolean): string {
  if (!r.ok) process.exitCode = 1;
  if (json) return JSON.stringify(r, null, 2);
  const c = r.chain;
  const chainLine = c.ok ? `intact (${c.entries} entries)` : `BROKEN: ${c.problem?.message ?? 'unknown'}${c.problem?.code ? ` [${c.problem.code}]` : ''}`;
  return [
    `file:      ${r.file}`,
    `signature: ${r.signature.ok ? '' : 'INVALID: '}${r.signature.detail}`,
    `chain:     ${chainLine}`,
    `verdict:   ${r.ok ? 'OK' : 'FAILED'}`,
  ].join('\n');
}

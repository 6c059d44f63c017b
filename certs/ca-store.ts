import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { parseCa, parseCaCert, type CaMaterial } from './ca-material.js';
import { createCa } from './create-ca.js';
import { CertError, isCertError } from './errors.js';

const CA_CERT_FILE = 'ca.crt';
const CA_KEY_FILE = 'ca.key';

export interface LoadOrCreateCaOptions {
  readonly permittedDomains: readonly string[];
  readonly validityMs: number;
  /** Replace an existing CA (clients must then be given the new ca.crt). */
  readonly force?: boolean;
  readonly now?: Date;
}

const REPLACE_HINT = 'run `airlock ca init --force` to replace the CA (clients must then trust the new ca.crt)';

async function readIfExists(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/**
 * Created with its mode from the first byte, so the key is never readable by others even for a
 * moment. The public certificate alone gets an fchmod, to undo a restrictive umask (0644).
 */
async function writeNewFile(path: string, data: string, mode: number, publicFile: boolean): Promise<void> {
  const fh = await open(path, 'wx', mode);
  try {
    if (publicFile) await fh.chmod(mode);
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function writeCa(caDir: string, ca: CaMaterial): Promise<void> {
  const tag = randomBytes(6).toString('hex');
  const keyTmp = join(caDir, `.${CA_KEY_FILE}.${tag}.tmp`);
  const certTmp = join(caDir, `.${CA_CERT_FILE}.${tag}.tmp`);
  try {
    await writeNewFile(keyTmp, ca.keyPem, 0o600, false);
    await writeNewFile(certTmp, ca.certPem, 0o644, true);
    // Key first: a crash in between leaves a new key beside the old cert, which loading
    // reports as CA_KEY_MISMATCH instead of serving with a mismatched pair.
    await rename(keyTmp, join(caDir, CA_KEY_FILE));
    await rename(certTmp, join(caDir, CA_CERT_FILE));
  } finally {
    await unlink(keyTmp).catch(() => undefined);
    await unlink(certTmp).catch(() => undefined);
  }
  const dir = await open(caDir, 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

async function loadCa(caDir: string, certPem: string, keyPem: string): Promise<CaMaterial> {
  const keyPath = join(caDir, CA_KEY_FILE);
  const st = await stat(keyPath);
  if ((st.mode & 0o077) !== 0) {
    throw new CertError('CA_KEY_PERMISSIONS', `${keyPath} is readable by group or others: chmod 600 it (and consider the key leaked)`);
  }
  const ca = { certPem, keyPem };
  try {
    parseCa(ca);
  } catch (err) {
    if (!isCertError(err)) throw err;
    throw new CertError(err.code, `${err.message} in ${caDir}: ${REPLACE_HINT}`, { cause: err });
  }
  return ca;
}

/**
 * `<caDir>/ca.crt` (0644) and `<caDir>/ca.key` (0600), made if both are absent (caDir is made
 * 0700), loaded if both exist, replaced with force. A half-present or unreadable pair is an
 * error rather than a silent regeneration, which would quietly break every client's trust.
 */
export async function loadOrCreateCa(caDir: string, opts: LoadOrCreateCaOptions): Promise<{ ca: CaMaterial; created: boolean }> {
  await mkdir(caDir, { recursive: true, mode: 0o700 });
  if (opts.force !== true) {
    const certPem = await readIfExists(join(caDir, CA_CERT_FILE));
    const keyPem = await readIfExists(join(caDir, CA_KEY_FILE));
    if (certPem !== null && keyPem !== null) return { ca: await loadCa(caDir, certPem, keyPem), created: false };
    if (certPem !== null) {
      throw new CertError('CA_KEY_MISSING', `${join(caDir, CA_CERT_FILE)} exists but ${CA_KEY_FILE} does not: restore the key, or ${REPLACE_HINT}`);
    }
    if (keyPem !== null) {
      throw new CertError('CA_CERT_MISSING', `${join(caDir, CA_KEY_FILE)} exists but ${CA_CERT_FILE} does not: restore the certificate, or ${REPLACE_HINT}`);
    }
  }
  const ca = createCa({
    permittedDomains: opts.permittedDomains,
    validityMs: opts.validityMs,
    ...(opts.now ? { now: opts.now } : {}),
  });
  await writeCa(caDir, ca);
  return { ca, created: true };
}

/** The CA certificate PEM for `airlock ca cert`; checks it parses, reads no key. */
export function readCaCert(caDir: string): string {
  const path = join(caDir, CA_CERT_FILE);
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new CertError('CA_CERT_MISSING', `no CA certificate at ${path}: run \`airlock ca init\``);
    }
    throw err;
  }
  parseCaCert(pem);
  return pem;
}

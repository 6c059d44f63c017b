// <state>/login-sessions.json: the session tokens' hashes, the jti replay cache and the ambient
// binding. A plain JSON file (not lowdb): one small document, read once at start and rewritten
// whole on each login/logout (rare events), atomically (0600 temp file, fsync, rename), so a
// restart keeps every job logged in and every exchanged JWT still refused, and a crash leaves
// the old or the new document, never half of one.
import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../lib/file-io.js';
import { CodedError } from '../errors.js';

const storedIdentity = z.object({
  issuer: z.string(),
  iss: z.string(),
  sub: z.string(),
  claims: z.record(z.string(), z.unknown()),
  grant: z.string(),
  credential: z.string(),
});

const tokenRecord = z.object({
  /** sha256 of the token, base64url; the token itself is never written. */
  hash: z.string(),
  /** The recording session key (issuer + grant + sub + run): one job, one session. */
  key: z.string(),
  identity: storedIdentity,
  issuedAt: z.number(),
  expiresAt: z.number(),
  /** sha256 of the stand-in DD_API_KEY / DD_APP_KEY issued with the token (identity/stand-in-keys.ts). */
  standIns: z.array(z.string()).optional(),
});

const stateFile = z.object({
  version: z.literal(1),
  tokens: z.array(tokenRecord),
  /** sha256(iss + "\n" + jti) of every exchanged JWT, kept until that JWT's exp. */
  jtis: z.array(z.object({ id: z.string(), until: z.number() })),
  binding: z.object({ key: z.string(), hash: z.string(), expiresAt: z.number() }).nullable(),
});

export type StoredIdentity = z.infer<typeof storedIdentity>;
export type TokenRecord = z.infer<typeof tokenRecord>;
export type LoginStateData = z.infer<typeof stateFile>;

const EMPTY_STATE: LoginStateData = { version: 1, tokens: [], jtis: [], binding: null };

class LoginStateError extends CodedError<'LOGIN_STATE'> {
  constructor(message: string) {
    super('LOGIN_STATE', message);
  }
}

/** The saved state; empty when there is no file yet. A damaged file is an error, never a silent reset (that would re-open every exchanged JWT). */
export async function readLoginState(path: string): Promise<LoginStateData> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { ...EMPTY_STATE, tokens: [], jtis: [] };
    throw new LoginStateError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new LoginStateError(`${path} is not JSON: remove it to log every job out`);
  }
  const r = stateFile.safeParse(parsed);
  if (!r.success) throw new LoginStateError(`${path} has an unexpected shape: remove it to log every job out`);
  return r.data;
}

export async function writeLoginState(path: string, data: LoginStateData): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFileAtomic(path, `${JSON.stringify(data)}\n`, { sync: true });
}

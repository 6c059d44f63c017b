import { lock } from 'proper-lockfile';
import { VaultError } from './vault-error.js';

export interface LockOptions {
  /** How long to keep retrying before VAULT_LOCKED. */
  readonly waitMs?: number;
  /** A lock not refreshed for this long was left by a crashed process (proper-lockfile's minimum is 2 s). */
  readonly staleMs?: number;
  readonly retryMs?: number;
}

/**
 * Runs `fn` holding `lockFile` (a directory made by proper-lockfile's atomic mkdir, its mtime
 * refreshed while held), so two `vault put`s at once cannot both read the old file and each
 * write back a version missing the other's entry. A lock whose holder crashed goes stale and is
 * taken over; one whose holder was killed by a signal is removed on exit.
 */
export async function withVaultLock<T>(lockFile: string, fn: () => Promise<T>, opts: LockOptions = {}): Promise<T> {
  const waitMs = opts.waitMs ?? 5_000;
  const retryMs = opts.retryMs ?? 25;
  let release: () => Promise<void>;
  try {
    release = await lock(lockFile, {
      lockfilePath: lockFile,
      // The vault file may not exist yet (first put): lock by name, not by resolved path.
      realpath: false,
      stale: opts.staleMs ?? 10_000,
      retries: { retries: Math.ceil(waitMs / retryMs), factor: 1, minTimeout: retryMs, maxTimeout: 2 * retryMs, randomize: true, maxRetryTime: waitMs },
      // The default throws from a timer and would crash the CLI; the work's own writes are atomic renames.
      onCompromised: () => undefined,
    });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // ENOTDIR: a plain lock file left by an airlock before proper-lockfile, which it cannot judge.
    if (code === 'ELOCKED' || code === 'ENOTDIR') {
      throw new VaultError('VAULT_LOCKED', `${lockFile} is held by another airlock vault command: retry, or remove it if no such command is running`);
    }
    throw new VaultError('VAULT_IO', `cannot create ${lockFile}: ${code ?? 'unknown error'}`);
  }
  try {
    return await fn();
  } finally {
    // ERELEASED: ours went stale and was taken over; the new holder keeps it.
    await release().catch(() => undefined);
  }
}

import { randomBytes } from 'node:crypto';
import { open, readFile, stat, unlink } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { VaultError } from './vault-error.js';

export interface LockOptions {
  /** How long to keep retrying before VAULT_LOCKED. */
  readonly waitMs?: number;
  /** A lock file older than this was left by a crashed process. */
  readonly staleMs?: number;
  readonly retryMs?: number;
  readonly now?: () => number;
}

/**
 * Runs `fn` holding `lockFile` (created with O_EXCL), so two `vault put`s at once cannot
 * both read the old file and each write back a version missing the other's entry.
 */
export async function withVaultLock<T>(lockFile: string, fn: () => Promise<T>, opts: LockOptions = {}): Promise<T> {
  const waitMs = opts.waitMs ?? 5_000;
  const staleMs = opts.staleMs ?? 10_000;
  const retryMs = opts.retryMs ?? 25;
  const now = opts.now ?? Date.now;
  const token = `${process.pid}-${randomBytes(8).toString('hex')}`;
  const deadline = now() + waitMs;

  for (;;) {
    if (await tryCreate(lockFile, token)) break;
    await removeIfStale(lockFile, staleMs, now);
    if (now() >= deadline) {
      throw new VaultError(
        'VAULT_LOCKED',
        `${lockFile} is held by another airlock vault command: retry, or remove the file if no such command is running`,
      );
    }
    await sleep(retryMs + Math.floor(Math.random() * retryMs));
  }

  try {
    return await fn();
  } finally {
    await release(lockFile, token);
  }
}

async function tryCreate(lockFile: string, token: string): Promise<boolean> {
  try {
    const fh = await open(lockFile, 'wx', 0o600);
    try {
      await fh.writeFile(token);
    } finally {
      await fh.close();
    }
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    throw new VaultError('VAULT_IO', `cannot create ${lockFile}: ${code ?? 'unknown error'}`);
  }
}

async function removeIfStale(lockFile: string, staleMs: number, now: () => number): Promise<void> {
  try {
    const st = await stat(lockFile);
    if (now() - st.mtimeMs < staleMs) return;
    // Re-check the same file is still there before removing it, to narrow the window in which
    // two waiters both judge it stale and the second removes the first one's fresh lock.
    const again = await stat(lockFile);
    if (again.ino !== st.ino || again.mtimeMs !== st.mtimeMs) return;
    await unlink(lockFile);
  } catch {
    /* gone already, or not ours to judge: the next tryCreate decides */
  }
}

async function release(lockFile: string, token: string): Promise<void> {
  try {
    // Only remove our own lock: if ours was judged stale and replaced, the new holder keeps it.
    if ((await readFile(lockFile, 'utf8')) === token) await unlink(lockFile);
  } catch {
    /* already gone */
  }
}

import { chmod, chown, lstat, mkdir, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from '../log.js';
import { groupId } from '../approvals/group-id.js';

/**
 * Makes a missing socket directory (only the last component: 0700, or 0750 with the approvers
 * group when there is one) and removes a stale socket. Anything else at the path is an error and
 * is never deleted: control.socket is configurable, and serve must not unlink an arbitrary file.
 */
export async function prepareSocketPath(path: string, group: string | null, log: Logger): Promise<void> {
  const dir = dirname(path);
  const made = await mkdir(dir, { mode: 0o700 }).then(
    () => true,
    (err: unknown) => {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw err;
    },
  );
  if (made && group) {
    const gid = await groupId(group);
    // chown to a group needs the service user to be a member of it (the sysusers `m` line).
    const opened =
      gid !== null &&
      (await chown(dir, -1, gid)
        .then(() => chmod(dir, 0o750))
        .then(
          () => true,
          () => false,
        ));
    if (!opened) log.error({ group, dir }, "could not open the control socket's new directory to approvals.group: it stays 0700");
  }
  const existing = await lstat(path).catch(() => null);
  if (existing && !existing.isSocket()) throw new Error(`control.socket ${path} exists and is not a socket: remove it or choose another path`);
  if (existing) await unlink(path);
}

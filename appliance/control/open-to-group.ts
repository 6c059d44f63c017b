// Gives the control socket to approvals.group (0660), failing closed (0600) whenever that cannot
// be done or checked. Two layouts work (docs/policies-approvals-masking.md, Approval holds):
//  - a setgid directory of that group, as the systemd unit makes /run/airlock: the socket is born
//    with the group, so nothing is chowned. Under PrivateUsers= the group is outside the service's
//    user namespace: chown to it would fail (EINVAL) and stat shows it as the overflow gid
//    (systemd maps only the unit's own user and group; systemd/systemd#41994).
//  - any other directory: the socket is chowned to the group, which needs the service user to be
//    a member (the sysusers `m` line).
import { chmod, chown, readFile, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from '../log.js';
import { groupId } from '../approvals/group-id.js';

const S_ISGID = 0o2000;

/** The gid stat reports for a group outside our user namespace. */
async function overflowGid(): Promise<number> {
  const text = await readFile('/proc/sys/kernel/overflowgid', 'utf8').catch(() => '65534');
  const n = Number(text.trim());
  return Number.isInteger(n) ? n : 65534;
}

export async function openToGroup(path: string, group: string, log: Logger): Promise<boolean> {
  const gid = await groupId(group);
  if (gid === null) {
    log.error({ group }, 'approvals.group does not exist: the control socket stays 0600 (only its owner can approve)');
    return false;
  }
  const dir = dirname(path);
  try {
    const d = await stat(dir);
    if ((d.mode & S_ISGID) !== 0) {
      const sockGid = (await stat(path)).gid;
      if (sockGid !== gid && sockGid !== (await overflowGid())) {
        log.error({ group, dir, gid: sockGid }, "the control socket's setgid directory belongs to another group: the socket stays 0600");
        return false;
      }
    } else {
      await chown(path, -1, gid);
    }
    await chmod(path, 0o660);
    if ((d.mode & 0o011) === 0) {
      log.warn(
        { group, dir },
        'the control socket is 0660 but its directory is closed to approvals.group: set control.socket to a directory the group can enter (docs/policies-approvals-masking.md, Approval holds)',
      );
    }
    return true;
  } catch (err) {
    log.error(
      { group, code: (err as NodeJS.ErrnoException).code },
      'could not give the control socket to approvals.group: it stays 0600 (is the service user a member of the group?)',
    );
    await chmod(path, 0o600).catch(() => undefined);
    return false;
  }
}

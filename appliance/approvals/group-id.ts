// Node has no getgrnam(): read /etc/group (the file the C library reads without NSS modules).
import { readFile } from 'node:fs/promises';

export async function groupId(name: string, file = '/etc/group'): Promise<number | null> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return null;
  }
  for (const line of text.split('\n')) {
    const [n, , gid] = line.split(':');
    if (n === name && gid !== undefined && /^\d+$/.test(gid)) return Number(gid);
  }
  return null;
}

// <state>/vault-status.json: what the running server's key sources hold (fingerprints, state,
// times, the last error; never a key), so that `airlock vault ls` can show a stale or missing
// sourced entry. Rewritten atomically on every change.
import { randomBytes } from 'node:crypto';
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { SourceStatus } from './key-sources.js';

export const VAULT_STATUS_FILE = 'vault-status.json';

export async function writeSourceStatus(stateDir: string, status: readonly SourceStatus[]): Promise<void> {
  const file = join(stateDir, VAULT_STATUS_FILE);
  const tmp = `${file}.tmp-${randomBytes(6).toString('hex')}`;
  try {
    const fh = await open(tmp, 'wx', 0o600);
    try {
      await fh.writeFile(`${JSON.stringify({ version: 1, updatedAt: new Date().toISOString(), sources: status })}\n`);
    } finally {
      await fh.close();
    }
    await rename(tmp, file);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}

/** The last status the server wrote; empty when none (no server ran, or no sourced entry). */
export async function readSourceStatus(stateDir: string): Promise<Map<string, SourceStatus>> {
  try {
    const v = JSON.parse(await readFile(join(stateDir, VAULT_STATUS_FILE), 'utf8')) as { sources?: SourceStatus[] };
    return new Map((v.sources ?? []).map((s) => [s.name, s]));
  } catch {
    return new Map();
  }
}

// <state>/vault-status.json: what the running server's key sources hold (fingerprints, state,
// times, the last error; never a key), so that `airlock vault ls` can show a stale or missing
// sourced entry. Rewritten atomically on every change.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../lib/file-io.js';
import type { SourceStatus } from './key-sources.js';

const VAULT_STATUS_FILE = 'vault-status.json';

export async function writeSourceStatus(stateDir: string, status: readonly SourceStatus[]): Promise<void> {
  // Not fsynced: the running server rewrites it on every change, and a stale one after a crash is replaced at start.
  await writeFileAtomic(join(stateDir, VAULT_STATUS_FILE), `${JSON.stringify({ version: 1, updatedAt: new Date().toISOString(), sources: status })}\n`, {
    sync: false,
  });
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

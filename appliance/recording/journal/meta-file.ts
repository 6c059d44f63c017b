import { open } from 'node:fs/promises';
import type { SessionSummary } from './journal-types.js';
import { sessionPaths } from './session-paths.js';
import { writeFileAtomic } from '../../lib/file-io.js';

/** A sidecar is a few hundred bytes; anything far bigger is not ours. */
const MAX_META_BYTES = 1024 * 1024;

export async function writeSummary(sessionsDir: string, summary: SessionSummary, opts: { readonly sync: boolean }): Promise<void> {
  await writeFileAtomic(sessionPaths(sessionsDir, summary.id).meta, `${JSON.stringify(summary, null, 2)}\n`, opts);
}

function isSummary(v: unknown, id: string): v is SessionSummary {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  return (
    o['id'] === id &&
    (o['status'] === 'open' || o['status'] === 'closed') &&
    typeof o['openedAt'] === 'string' &&
    typeof o['entryCount'] === 'number' &&
    typeof o['claims'] === 'object' &&
    o['claims'] !== null
  );
}

/** The sidecar, or null when it is missing or not a sidecar. */
export async function readSummary(sessionsDir: string, id: string): Promise<SessionSummary | null> {
  let fh;
  try {
    fh = await open(sessionPaths(sessionsDir, id).meta, 'r');
  } catch {
    return null;
  }
  try {
    const { size } = await fh.stat();
    if (size > MAX_META_BYTES) return null;
    const buf = Buffer.alloc(size);
    const { bytesRead } = await fh.read(buf, 0, size, 0);
    const v: unknown = JSON.parse(buf.subarray(0, bytesRead).toString('utf8'));
    return isSummary(v, id) ? v : null;
  } catch {
    return null;
  } finally {
    await fh.close();
  }
}

// A compacted index.ndjson starts with a header line that says how many bytes after it hold one
// line per session sorted by (openedAt, id): the base. Lines appended after the base (sessions
// opened, closed, shipped or pruned since) are the tail, in arrival order. A listing of the newest
// N reads the tail and then the base backwards until it has N: its cost follows N and the tail,
// not the number of sessions. An index without a valid header is all tail (read whole, as before).
import type { FileHandle } from 'node:fs/promises';

/** Fixed, so compaction can write the header last, over a placeholder, once the base is written. */
export const HEADER_BYTES = 128;
const VERSION = 1;

export interface IndexLayout {
  /** The file's size when it was looked at: readers stop here, whatever is appended meanwhile. */
  readonly size: number;
  /** [baseFrom, baseTo): the sorted base; empty when the index has no (valid) header. */
  readonly baseFrom: number;
  readonly baseTo: number;
}

/**
 * The header, padded with JSON whitespace to exactly HEADER_BYTES including its newline. The
 * session count is for whoever opens the file; readers need only the sorted length.
 */
export function headerLine(sortedBytes: number, sessions: number): string {
  const body = `{"airlockIndex":${VERSION},"sessions":${sessions},"sortedBytes":${sortedBytes}`;
  return `${body}${' '.repeat(HEADER_BYTES - body.length - 2)}}\n`;
}

export async function readLayout(fh: FileHandle): Promise<IndexLayout> {
  const { size } = await fh.stat();
  const none: IndexLayout = { size, baseFrom: 0, baseTo: 0 };
  if (size < HEADER_BYTES) return none;
  const head = Buffer.alloc(HEADER_BYTES);
  const { bytesRead } = await fh.read(head, 0, HEADER_BYTES, 0);
  if (bytesRead !== HEADER_BYTES || head[HEADER_BYTES - 1] !== 0x0a) return none;
  let h: unknown;
  try {
    h = JSON.parse(head.toString('utf8'));
  } catch {
    return none;
  }
  const o = (typeof h === 'object' && h !== null ? h : {}) as Record<string, unknown>;
  const sorted = o['sortedBytes'];
  if (o['airlockIndex'] !== VERSION || !Number.isSafeInteger(sorted) || (sorted as number) < 0) return none;
  const baseTo = HEADER_BYTES + (sorted as number);
  if (baseTo > size) return none;
  if (baseTo > HEADER_BYTES) {
    // The base must end on a line boundary, or the header describes some other file.
    const last = Buffer.alloc(1);
    await fh.read(last, 0, 1, baseTo - 1);
    if (last[0] !== 0x0a) return none;
  }
  return { size, baseFrom: HEADER_BYTES, baseTo };
}

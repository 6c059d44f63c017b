import type { FileHandle } from 'node:fs/promises';
import type { JournalLine } from './journal-types.js';

/** V8's string length limit (2^29 - 24): a longer line cannot be parsed; it is skipped, not buffered. */
const MAX_JOURNAL_LINE_BYTES = 2 ** 29 - 64;

export interface ReadJournalOptions {
  /** Read only bytes [0, endAt): a snapshot of a journal that is still being written. */
  readonly endAt?: number;
  readonly maxLineBytes?: number;
}

/**
 * Complete lines of a journal. A last line without its newline is torn (every line is written
 * with one) and is not yielded, nor is an over-long line; `skipped` counts those.
 */
export async function* readJournalLines(fh: FileHandle, opts: ReadJournalOptions = {}, stats: { skipped: number } = { skipped: 0 }): AsyncGenerator<string> {
  const max = opts.maxLineBytes ?? MAX_JOURNAL_LINE_BYTES;
  const stream = fh.createReadStream({
    start: 0,
    ...(opts.endAt !== undefined ? { end: Math.max(0, opts.endAt - 1) } : {}),
    autoClose: false,
    highWaterMark: 256 * 1024,
  });
  if (opts.endAt === 0) return;
  let parts: Buffer[] = [];
  let partBytes = 0;
  let overlong = false;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    let from = 0;
    for (let nl = chunk.indexOf(10, from); nl >= 0; nl = chunk.indexOf(10, from)) {
      const piece = chunk.subarray(from, nl);
      from = nl + 1;
      if (overlong || partBytes + piece.length > max) {
        stats.skipped++;
      } else {
        let line: string | null = null;
        try {
          line = (parts.length > 0 ? Buffer.concat([...parts, piece]) : piece).toString('utf8');
        } catch {
          stats.skipped++;
        }
        if (line !== null && line.trim() !== '') yield line;
      }
      parts = [];
      partBytes = 0;
      overlong = false;
    }
    const rest = chunk.subarray(from);
    if (rest.length === 0 || overlong) continue;
    if (partBytes + rest.length > max) {
      overlong = true;
      parts = [];
      partBytes = 0;
    } else {
      parts.push(Buffer.from(rest));
      partBytes += rest.length;
    }
  }
  if (partBytes > 0 || overlong) stats.skipped++;
}

const LINE_TYPES = new Set(['session', 'begin', 'exchange']);

/** A journal line, or null for anything that is not one (garbage never throws). */
export function parseJournalLine(text: string): JournalLine | null {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return null;
  const o = v as Record<string, unknown>;
  if (typeof o['type'] !== 'string' || !LINE_TYPES.has(o['type'])) return null;
  if (o['type'] === 'session') return typeof o['id'] === 'string' ? (v as JournalLine) : null;
  if (typeof o['id'] !== 'string') return null;
  if (o['type'] === 'exchange') {
    const rq = o['request'];
    if (typeof rq !== 'object' || rq === null) return null;
  }
  return v as JournalLine;
}

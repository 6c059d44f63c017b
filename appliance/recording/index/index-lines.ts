// Reading a byte range of index.ndjson in bounded chunks, forwards (a full fold) or backwards (the
// newest sessions first), and picking lines out of a chunk. Never the whole file in one string:
// V8 caps a string near 512 MB, and a listing of the newest 100 should not read 100 MB. A '\n'
// byte never occurs inside a UTF-8 sequence, so splitting raw bytes on it is safe; a prefilter
// is searched for in the raw bytes too, so lines that cannot match are never decoded.
import type { FileHandle } from 'node:fs/promises';

/** An index line is about 1 KB; a longer line than this is not ours and is skipped whole. */
export const MAX_LINE = 256 * 1024;
const CHUNK = 1024 * 1024;
const NL = 0x0a;
const EMPTY = Buffer.alloc(0);
const DROP = Buffer.from('"dropped":true');

/**
 * Groups of alternatives that must all occur in a line's raw text for it to be worth parsing
 * (filter-sessions.ts linePrefilter). Drop records are always picked.
 */
export type Prefilter = readonly (readonly Buffer[])[];

export function compilePrefilter(groups: readonly (readonly string[])[] | null): Prefilter | null {
  return groups && groups.length > 0 ? groups.map((alts) => alts.map((a) => Buffer.from(a, 'utf8'))) : null;
}

async function readRange(fh: FileHandle, at: number, length: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(length);
  let got = 0;
  while (got < length) {
    const { bytesRead } = await fh.read(buf, got, length - got, at + got);
    if (bytesRead === 0) break; // the file shrank under us: read what there is
    got += bytesRead;
  }
  return got === length ? buf : buf.subarray(0, got);
}

/**
 * Whole lines of [from, to), in order, a chunk of them at a time; a last line without its newline
 * (a torn append) comes last. Lines over MAX_LINE are dropped.
 */
export async function* chunksForward(fh: FileHandle, from: number, to: number, chunk = CHUNK): AsyncGenerator<Buffer> {
  let carry: Buffer = EMPTY;
  let skipping = false; // inside an over-long line: drop bytes up to its newline
  for (let at = from; at < to;) {
    let buf = await readRange(fh, at, Math.min(chunk, to - at));
    if (buf.length === 0) break;
    at += buf.length;
    if (skipping) {
      const nl = buf.indexOf(NL);
      if (nl < 0) continue;
      skipping = false;
      buf = buf.subarray(nl + 1);
    }
    const last = buf.lastIndexOf(NL);
    if (last < 0) {
      if (carry.length + buf.length > MAX_LINE) {
        carry = EMPTY;
        skipping = true;
      } else {
        carry = Buffer.concat([carry, buf]);
      }
      continue;
    }
    const whole = carry.length > 0 ? Buffer.concat([carry, buf.subarray(0, last + 1)]) : buf.subarray(0, last + 1);
    carry = Buffer.from(buf.subarray(last + 1));
    if (carry.length > MAX_LINE) {
      carry = EMPTY;
      skipping = true;
    }
    yield whole;
  }
  if (carry.length > 0 && !skipping) yield carry;
}

/** Whole lines of [from, to), a chunk of them at a time, the last chunk first. */
export async function* chunksBackward(fh: FileHandle, from: number, to: number, chunk = CHUNK): AsyncGenerator<Buffer> {
  // `head`: the end part of a line whose start lies in an earlier chunk.
  let head: Buffer = EMPTY;
  let skipping = false; // the line ending at the next newline back is over-long: drop it
  for (let end = to; end > from;) {
    const start = Math.max(from, end - chunk);
    let buf = await readRange(fh, start, end - start);
    if (buf.length < end - start) return; // the file shrank under us: nothing safe to say
    end = start;
    if (skipping) {
      const nl = buf.lastIndexOf(NL);
      if (nl < 0) continue;
      skipping = false;
      buf = buf.subarray(0, nl + 1);
    }
    const joined = head.length > 0 ? Buffer.concat([buf, head]) : buf;
    if (start === from) {
      yield joined;
      return;
    }
    const first = joined.indexOf(NL);
    head = Buffer.from(first < 0 ? joined : joined.subarray(0, first));
    if (head.length > MAX_LINE) {
      head = EMPTY;
      skipping = true;
    }
    if (first >= 0) yield joined.subarray(first + 1);
  }
}

/** The lines of a chunk, in order, decoded; with a prefilter, only those that may match. */
export function selectLines(buf: Buffer, pre: Prefilter | null): string[] {
  const out: string[] = [];
  if (!pre) {
    const text = buf.toString('utf8');
    for (let from = 0; from < text.length;) {
      let nl = text.indexOf('\n', from);
      if (nl < 0) nl = text.length;
      if (nl > from && nl - from <= MAX_LINE) out.push(text.slice(from, nl));
      from = nl + 1;
    }
    return out;
  }
  // Find the lines holding one of the first group's alternatives (or a drop) by searching the
  // raw bytes, then check the other groups on those lines only.
  const starts = new Map<number, number>();
  for (const needle of [...pre[0]!, DROP]) {
    for (let at = buf.indexOf(needle); at >= 0;) {
      const start = buf.lastIndexOf(NL, at) + 1;
      let end = buf.indexOf(NL, at);
      if (end < 0) end = buf.length;
      starts.set(start, end);
      at = end + 1 < buf.length ? buf.indexOf(needle, end + 1) : -1;
    }
  }
  for (const start of [...starts.keys()].sort((a, b) => a - b)) {
    const end = starts.get(start)!;
    if (end - start > MAX_LINE) continue;
    const line = buf.subarray(start, end);
    if (line.includes(DROP) || pre.every((alts) => alts.some((a) => line.includes(a)))) out.push(line.toString('utf8'));
  }
  return out;
}

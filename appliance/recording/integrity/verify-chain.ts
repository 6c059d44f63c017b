// Re-walks a HAR's entry chain (chain.ts) from the HAR alone and names the first entry that is
// altered, missing or reordered. Pure: bytes in, verdict out. A file that no longer parses as a
// whole (truncated, or a byte flipped into its structure) is read line by line, since Airlock
// writes one entry per line.
import { entryHash, type LogChain } from './chain.js';

type ChainProblemCode = 'ENTRY_ALTERED' | 'ENTRY_MISSING' | 'ENTRY_REORDERED' | 'FILE_TRUNCATED' | 'CHAIN_MISSING' | 'HEAD_MISMATCH' | 'NOT_A_HAR';

interface ChainProblem {
  readonly code: ChainProblemCode;
  /** 1-based: the first entry that is altered, missing or out of place. */
  readonly entry?: number;
  readonly message: string;
}

export interface ChainVerdict {
  readonly ok: boolean;
  /** Entries found in the file. */
  readonly entries: number;
  /** Entries the chain says there are (null when the trailer is gone). */
  readonly count: number | null;
  readonly problem?: ChainProblem;
}

type Slot = { readonly entry: Record<string, unknown> } | { readonly unreadable: true };

interface Parsed {
  readonly slots: Slot[];
  readonly chain: LogChain | null;
  readonly truncated: boolean;
}

function obj(v: unknown): Record<string, unknown> | null {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
}

function chainOfLog(log: Record<string, unknown> | null): LogChain | null {
  const c = obj(obj(log?.['_airlock'])?.['chain']);
  if (!c || typeof c['origin'] !== 'string' || typeof c['head'] !== 'string' || typeof c['count'] !== 'number') return null;
  return c as unknown as LogChain;
}

function parseWhole(text: string): Parsed | null {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return null;
  }
  const log = obj(obj(v)?.['log']);
  const entries = log?.['entries'];
  if (!log || !Array.isArray(entries)) return { slots: [], chain: null, truncated: false };
  return {
    slots: entries.map((e): Slot => (obj(e) ? { entry: obj(e)! } : { unreadable: true })),
    chain: chainOfLog(log),
    truncated: false,
  };
}

/** `{"log":{...,"entries":[` / one entry per line / `],"_airlock":{...}}}` as streamHar writes it. */
function parseLines(text: string): Parsed | null {
  const lines = text.split('\n');
  if (!(lines[0] ?? '').startsWith('{"log":') || !(lines[0] ?? '').endsWith('"entries":[')) return null;
  const slots: Slot[] = [];
  let chain: LogChain | null = null;
  let truncated = true;
  let lastNonEmpty = lines.length - 1;
  while (lastNonEmpty > 0 && (lines[lastNonEmpty] ?? '').trim() === '') lastNonEmpty--;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const isLast = i >= lastNonEmpty;
    if (line.startsWith(']')) {
      try {
        chain = chainOfLog(obj(JSON.parse(`{${line.slice(2, -2)}}`)));
        truncated = chain === null;
      } catch {
        truncated = true;
      }
      break;
    }
    try {
      const e = obj(JSON.parse(line.endsWith(',') ? line.slice(0, -1) : line));
      slots.push(e ? { entry: e } : { unreadable: true });
    } catch {
      if (isLast) break; // cut inside this entry: it is the first missing one
      slots.push({ unreadable: true });
    }
  }
  return { slots, chain, truncated };
}

function entryChain(e: Record<string, unknown>): { seq: number; prev: string; hash: string } | null {
  const c = obj(obj(e['_airlock'])?.['chain']);
  if (!c || typeof c['seq'] !== 'number' || typeof c['prev'] !== 'string' || typeof c['hash'] !== 'string') return null;
  return { seq: c['seq'], prev: c['prev'], hash: c['hash'] };
}

export function verifyChain(har: Buffer | string): ChainVerdict {
  const text = typeof har === 'string' ? har : har.toString('utf8');
  const parsed = parseWhole(text) ?? parseLines(text);
  if (!parsed) return { ok: false, entries: 0, count: null, problem: { code: 'NOT_A_HAR', message: 'not a HAR written by Airlock (no log.entries)' } };
  const { slots, chain, truncated } = parsed;
  const count = chain?.count ?? null;
  const fail = (problem: ChainProblem): ChainVerdict => ({ ok: false, entries: slots.length, count, problem });
  const seqAt = slots.map((s) => ('entry' in s ? entryChain(s.entry)?.seq : undefined));

  let expectedPrev = chain?.origin ?? (slots[0] && 'entry' in slots[0] ? entryChain(slots[0].entry)?.prev : undefined) ?? '';
  let expectedSeq = 0;
  for (let i = 0; i < slots.length; i++) {
    const slot = slots[i]!;
    const n = expectedSeq + 1;
    if (!('entry' in slot)) return fail({ code: 'ENTRY_ALTERED', entry: i + 1, message: `entry ${i + 1} is altered: it is no longer valid JSON` });
    const c = entryChain(slot.entry);
    if (!c) return fail({ code: 'ENTRY_ALTERED', entry: i + 1, message: `entry ${i + 1} is altered: its _airlock.chain is missing or malformed` });
    if (entryHash(c.seq, c.prev, slot.entry) !== c.hash) {
      return fail({ code: 'ENTRY_ALTERED', entry: i + 1, message: `entry ${i + 1} is altered: its content does not match its hash` });
    }
    if (c.seq === expectedSeq && c.prev === expectedPrev) {
      expectedPrev = c.hash;
      expectedSeq++;
      continue;
    }
    if (c.seq !== expectedSeq) {
      const elsewhere = seqAt.indexOf(expectedSeq, i + 1);
      if (elsewhere >= 0)
        return fail({
          code: 'ENTRY_REORDERED',
          entry: n,
          message: `entry ${n} is out of order: it is at position ${elsewhere + 1}, and entry ${c.seq + 1} is in its place`,
        });
      if (c.seq > expectedSeq) return fail({ code: 'ENTRY_MISSING', entry: n, message: `entry ${n} is missing: entry ${c.seq + 1} follows entry ${n - 1}` });
      return fail({ code: 'ENTRY_REORDERED', entry: n, message: `entry ${c.seq + 1} appears again at position ${i + 1}` });
    }
    return fail({ code: 'ENTRY_ALTERED', entry: n, message: `entry ${n} does not follow entry ${n - 1}: the chain link is broken` });
  }
  if (truncated) {
    return fail({
      code: 'FILE_TRUNCATED',
      entry: slots.length + 1,
      message: `the file is truncated after entry ${slots.length}: entry ${slots.length + 1} (if there was one) and the chain's head are missing`,
    });
  }
  if (!chain) return fail({ code: 'CHAIN_MISSING', message: 'log._airlock.chain is missing: this HAR carries no hash chain' });
  if (slots.length < chain.count)
    return fail({
      code: 'ENTRY_MISSING',
      entry: slots.length + 1,
      message: `entry ${slots.length + 1} is missing: the chain counts ${chain.count} entries, the file has ${slots.length}`,
    });
  if (slots.length > chain.count || expectedPrev !== chain.head)
    return fail({ code: 'HEAD_MISMATCH', message: "the last entry does not end at the chain's recorded head" });
  return { ok: true, entries: slots.length, count };
}

// The hash chain that makes a session tamper-evident, in two places:
//  - journal lines: each line ends with "prev": the SHA-256 of the previous line's text; the
//    first (session) line carries the session's random origin;
//  - HAR entries: each entry's _airlock.chain = {seq, prev, hash}, where
//    hash = sha256(seq "\n" prev "\n" canonical JSON of the entry without its chain field),
//    and log._airlock.chain = {alg, origin, head, count}. This chain is recomputed from the HAR
//    alone, so `sessions verify` can name the first altered, missing or reordered entry.
import { hash, randomBytes } from 'node:crypto';

export const CHAIN_ALG = 'sha256';

export interface EntryChain {
  readonly seq: number;
  readonly prev: string;
  readonly hash: string;
}

export interface LogChain {
  readonly alg: typeof CHAIN_ALG;
  readonly origin: string;
  /** The last entry's hash (the origin when there are no entries). */
  readonly head: string;
  readonly count: number;
  /** Whether the journal the HAR was built from had an unbroken line chain. */
  readonly journal?: { readonly lines: number; readonly intact: boolean; readonly firstBreakAtLine?: number };
}

// crypto.hash, not createHash: one call per journal line, and no Hash object to build each time.
export function sha256Hex(data: string | Buffer): string {
  return hash('sha256', data, 'hex');
}

export function newChainOrigin(): string {
  return randomBytes(32).toString('hex');
}

/**
 * JSON with object keys sorted at every level: a HAR that was re-serialized (pretty-printed,
 * keys reordered) still verifies its chain; only the signature is over the exact bytes.
 * Kept hand-written rather than `canonicalize` (RFC 8785): the bytes are the same on every recorded
 * entry, but RFC 8785 throws on a lone surrogate, which a recorded approval note can hold (it is cut
 * at 500 UTF-16 units); recording and verify must hash it (test/unit/recording/chain-fixture.test.ts).
 */
export function canonicalJson(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${v.map((x) => (x === undefined ? 'null' : canonicalJson(x))).join(',')}]`;
  const o = v as Record<string, unknown>;
  const parts: string[] = [];
  for (const k of Object.keys(o).sort()) {
    if (o[k] === undefined) continue;
    parts.push(`${JSON.stringify(k)}:${canonicalJson(o[k])}`);
  }
  return `{${parts.join(',')}}`;
}

/** The entry as hashed: a copy without `_airlock.chain`. */
function withoutChain(entry: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const airlock = entry['_airlock'];
  if (typeof airlock !== 'object' || airlock === null || !('chain' in airlock)) return { ...entry };
  const { chain: _dropped, ...rest } = airlock as Record<string, unknown>;
  return { ...entry, _airlock: rest };
}

export function entryHash(seq: number, prev: string, entry: Readonly<Record<string, unknown>>): string {
  return sha256Hex(`${seq}\n${prev}\n${canonicalJson(withoutChain(entry))}`);
}

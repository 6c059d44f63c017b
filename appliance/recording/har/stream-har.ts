// Writes a whole HAR from journal lines, piece by piece: the journal may hold far more than fits
// in one string, so neither the journal nor the HAR is ever held in memory whole.
// Entries are hash-chained (chain.ts) as they are written; log._airlock, which holds the chain's
// head and count, is therefore written after the entries array (JSON member order is free).
import { buildHarEntry, buildNoResponseEntry } from './build-har-entry.js';
import { CHAIN_ALG, entryHash, newChainOrigin, sha256Hex, type LogChain } from '../integrity/index.js';
import type { HarEntry, HarLogAirlock } from './har-types.js';
import { identityFields, type JournalBeginLine, parseJournalLine, sessionClaims } from '../journal/index.js';
import type { SessionMeta } from '../../lib/exchange-types.js';

/** Begins still waiting for their exchange; past this many the oldest are forgotten. */
const MAX_PENDING_BEGINS = 100_000;
const FLUSH_AT = 256 * 1024;

export interface StreamHarOptions {
  readonly sessionId: string;
  /** From the sidecar; the journal's own first line wins when present. */
  readonly fallbackMeta: SessionMeta | null;
  readonly closedAt: string | null;
  readonly closeReason: string | null;
  readonly creatorVersion: string;
  readonly lines: AsyncIterable<string>;
  readonly write: (chunk: string) => Promise<void>;
}

export interface StreamHarResult {
  readonly entryCount: number;
  readonly meta: SessionMeta | null;
  /** Lines that were not journal lines (garbage, or a torn line in the middle). */
  readonly badLines: number;
}

function logAirlock(id: string, meta: SessionMeta | null, closedAt: string | null, closeReason: string | null, chain: LogChain): HarLogAirlock {
  return {
    session: id,
    ...identityFields(meta),
    claims: sessionClaims(meta?.claims ?? {}),
    openedAt: meta?.openedAt ?? '',
    closedAt,
    closeReason,
    chain,
  };
}

function metaFromLine(line: SessionMeta): SessionMeta {
  const o = line as unknown as Record<string, unknown>;
  const s = (k: string): string => (typeof o[k] === 'string' ? o[k] : '');
  const claims = typeof o['claims'] === 'object' && o['claims'] !== null ? (o['claims'] as Record<string, unknown>) : {};
  return {
    id: s('id'),
    key: s('key'),
    issuer: s('issuer'),
    iss: s('iss'),
    sub: s('sub'),
    grant: s('grant'),
    credential: s('credential'),
    claims,
    openedAt: s('openedAt'),
    ...(typeof o['replayOf'] === 'string' ? { replayOf: o['replayOf'] } : {}),
  };
}

function originOf(line: unknown): string | null {
  const chain = (line as { chain?: unknown }).chain;
  const origin = typeof chain === 'object' && chain !== null ? (chain as { origin?: unknown }).origin : undefined;
  return typeof origin === 'string' && /^[0-9a-f]{64}$/.test(origin) ? origin : null;
}

/** Walks the journal's own line chain: each line's "prev" must be the hash of the line before. */
class JournalChainCheck {
  lines = 0;
  firstBreakAtLine: number | undefined;
  private last: string | null = null;
  see(text: string, prev: unknown): void {
    this.lines++;
    if (this.last !== null && prev !== this.last && this.firstBreakAtLine === undefined) this.firstBreakAtLine = this.lines;
    this.last = sha256Hex(text);
  }
  result(): NonNullable<LogChain['journal']> {
    return {
      lines: this.lines,
      intact: this.firstBreakAtLine === undefined,
      ...(this.firstBreakAtLine !== undefined ? { firstBreakAtLine: this.firstBreakAtLine } : {}),
    };
  }
}

export async function streamHar(opts: StreamHarOptions): Promise<StreamHarResult> {
  let buffered: string[] = [];
  let bufferedLen = 0;
  const emit = async (s: string): Promise<void> => {
    buffered.push(s);
    bufferedLen += s.length;
    if (bufferedLen >= FLUSH_AT) await flush();
  };
  const flush = async (): Promise<void> => {
    if (buffered.length === 0) return;
    const chunk = buffered.join('');
    buffered = [];
    bufferedLen = 0;
    await opts.write(chunk);
  };

  let meta: SessionMeta | null = null;
  let headerDone = false;
  let entryCount = 0;
  let badLines = 0;
  const pending = new Map<string, JournalBeginLine>();

  let origin: string | null = null;
  let head = '';
  const journal = new JournalChainCheck();

  const header = async (): Promise<void> => {
    if (headerDone) return;
    headerDone = true;
    // A journal from before chaining has no origin: the HAR still gets a chain, from a fresh one.
    origin ??= newChainOrigin();
    head = origin;
    const json = JSON.stringify({ log: { version: '1.2', creator: { name: 'airlock', version: opts.creatorVersion }, pages: [] } });
    // Reopen the log object after its last field to append the entries array.
    await emit(`${json.slice(0, -2)},"entries":[`);
  };
  const entry = async (e: HarEntry): Promise<void> => {
    const hash = entryHash(entryCount, head, e as unknown as Record<string, unknown>);
    const chained: HarEntry = { ...e, _airlock: { ...e._airlock, chain: { seq: entryCount, prev: head, hash } } };
    head = hash;
    await emit(`${entryCount === 0 ? '\n' : ',\n'}${JSON.stringify(chained)}`);
    entryCount++;
  };

  for await (const text of opts.lines) {
    const line = parseJournalLine(text);
    journal.see(text, (line as { prev?: unknown } | null)?.prev);
    if (line === null) {
      badLines++;
      continue;
    }
    if (line.type === 'session') {
      if (!headerDone && meta === null) {
        meta = metaFromLine(line);
        origin = originOf(line);
      }
      continue;
    }
    await header();
    if (line.type === 'begin') {
      if (pending.size >= MAX_PENDING_BEGINS) {
        const oldest = pending.keys().next().value;
        if (oldest !== undefined) pending.delete(oldest);
      }
      pending.set(line.id, line);
      continue;
    }
    pending.delete(line.id);
    let built;
    try {
      built = buildHarEntry(line);
    } catch {
      badLines++;
      continue;
    }
    await entry(built);
  }
  await header();
  for (const begin of pending.values()) await entry(buildNoResponseEntry(begin));
  const chain: LogChain = { alg: CHAIN_ALG, origin: origin ?? head, head, count: entryCount, journal: journal.result() };
  const airlock = logAirlock(opts.sessionId, meta ?? opts.fallbackMeta, opts.closedAt, opts.closeReason, chain);
  await emit(`\n],"_airlock":${JSON.stringify(airlock)}}}\n`);
  await flush();
  return { entryCount, meta: meta ?? opts.fallbackMeta, badLines };
}

// `<sessionsDir>/index.ndjson`: one line per session event (opened, closed, shipped, pruned),
// appended, so that `sessions ls` reads one file instead of one sidecar per session.
//
// Why not lowdb (the project's state store): its one JSON document is rewritten whole on every
// change, which at 100,000 sessions is tens of MB per session close. Why not SQLite: node:sqlite
// is not in Node 20 and better-sqlite3 needs a native build. An append-only log costs one small
// write per event; the last line for an id wins; `compactIndex` (at server start) rewrites it
// with one line per live session. The sidecars stay the source of truth: the index is rebuilt
// from them whenever it is missing, and reconciled with them on compaction.
import { open, readdir, readFile, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { errCode, FILE_MODE, fsyncDir, writeFully } from './file-io.js';
import type { SessionSummary } from './journal-types.js';
import { readSummary } from './meta-file.js';
import { isSessionId } from './session-id.js';

// Not .jsonl: that suffix means a session journal to everything that scans this directory.
export const INDEX_FILE = 'index.ndjson';
const META_SUFFIX = '.meta.json';
/** A sidecar line is a few hundred bytes; a longer line is not ours. */
const MAX_LINE = 256 * 1024;

export type IndexRecord = SessionSummary | { readonly id: string; readonly dropped: true };

export function indexPath(sessionsDir: string): string {
  return join(sessionsDir, INDEX_FILE);
}

/** One O_APPEND write per record: concurrent writers (server, CLI) never interleave within a line. */
export async function appendIndex(sessionsDir: string, record: IndexRecord): Promise<void> {
  const line = `${indexLine(record)}\n`;
  const fh = await open(indexPath(sessionsDir), 'a', FILE_MODE);
  try {
    await writeFully(fh, line);
  } finally {
    await fh.close();
  }
}

/**
 * An index line puts `claims` last, so the small fields can be parsed without the claims (most
 * of a line's bytes): a listing parses claims only for rows a --claim filter has to look at.
 * A top-level `,"claims":` is the first such sequence: earlier members are plain strings and
 * numbers, whose quotes JSON escapes.
 */
export function indexLine(record: IndexRecord): string {
  if (!('claims' in record)) return JSON.stringify(record);
  const { claims, ...rest } = record;
  return JSON.stringify({ ...rest, claims });
}

/** A summary read from the index, whose claims are parsed on first use. */
export class IndexedSummary implements SessionSummary {
  readonly id!: string;
  readonly key!: string;
  readonly issuer!: string;
  readonly iss!: string;
  readonly sub!: string;
  readonly grant!: string;
  readonly credential!: string;
  readonly openedAt!: string;
  readonly status!: SessionSummary['status'];
  readonly closedAt!: string | null;
  readonly closeReason!: string | null;
  readonly entryCount!: number;
  readonly lastActivityAt!: string;
  readonly replayOf?: string;
  readonly shippedAt?: string;
  #parsed: Readonly<Record<string, unknown>> | undefined;
  readonly #raw: string;
  constructor(small: Record<string, unknown>, rawClaims: string) {
    Object.assign(this, small);
    this.#raw = rawClaims;
  }
  get claims(): Readonly<Record<string, unknown>> {
    if (this.#parsed === undefined) {
      let v: unknown;
      try {
        v = JSON.parse(this.#raw);
      } catch {
        v = {};
      }
      this.#parsed = typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
    }
    return this.#parsed;
  }
  toJSON(): SessionSummary {
    return { ...(Object.fromEntries(Object.entries(this)) as unknown as SessionSummary), claims: this.claims };
  }
}

function rowOf(line: string): IndexedSummary | { id: string; dropped: true } | null {
  const at = line.indexOf(',"claims":');
  const v: unknown = JSON.parse(at > 0 ? `${line.slice(0, at)}}` : line);
  if (typeof v !== 'object' || v === null) return null;
  const o = v as Record<string, unknown>;
  if (typeof o['id'] !== 'string' || !isSessionId(o['id'])) return null;
  if (o['dropped'] === true) return { id: o['id'], dropped: true };
  if (at <= 0 || (o['status'] !== 'open' && o['status'] !== 'closed') || typeof o['openedAt'] !== 'string') return null;
  return new IndexedSummary(o, line.slice(at + ',"claims":'.length, -1));
}

/** Folds index text into the latest summary per session. Bad lines are skipped, never fatal. */
/**
 * `keep` may skip lines before they are parsed (a --claim prefilter): claims never change within
 * a session, so a session whose lines lack the claim text cannot match. Drop records are always kept.
 */
export type LineFilter = (line: string) => boolean;

export function foldIndex(text: string, into: Map<string, SessionSummary> = new Map(), keep?: LineFilter): Map<string, SessionSummary> {
  let from = 0;
  while (from < text.length) {
    let nl = text.indexOf('\n', from);
    if (nl < 0) nl = text.length;
    if (nl - from > 2 && nl - from <= MAX_LINE) {
      try {
        const line = text.slice(from, nl);
        if (keep && !keep(line) && !line.includes('"dropped":true')) {
          from = nl + 1;
          continue;
        }
        const row = rowOf(line);
        if (row instanceof IndexedSummary) into.set(row.id, row);
        else if (row) into.delete(row.id);
      } catch {
        // A torn last line (a crash mid-append) or garbage: the sidecars still hold the truth.
      }
    }
    from = nl + 1;
  }
  return into;
}

/** The index as a map, or null when there is no index file. */
export async function readIndex(sessionsDir: string, keep?: LineFilter): Promise<Map<string, SessionSummary> | null> {
  let text: string;
  try {
    text = await readFile(indexPath(sessionsDir), 'utf8');
  } catch (err) {
    if (errCode(err) === 'ENOENT') return null;
    throw err;
  }
  return foldIndex(text, new Map(), keep);
}

export async function sidecarIds(sessionsDir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(sessionsDir);
  } catch (err) {
    if (errCode(err) === 'ENOENT') return [];
    throw err;
  }
  return names.filter((n) => n.endsWith(META_SUFFIX)).map((n) => n.slice(0, -META_SUFFIX.length)).filter(isSessionId);
}

/**
 * Rewrites the index from itself and the sidecars: one line per session that still has a
 * sidecar; sessions the index missed (a crash between sidecar and index write) are read from
 * their sidecars. Open sessions are refreshed from their sidecars. Returns the live count.
 */
export async function compactIndex(sessionsDir: string): Promise<number> {
  const known = (await readIndex(sessionsDir)) ?? new Map<string, SessionSummary>();
  const ids = await sidecarIds(sessionsDir);
  const out = new Map<string, SessionSummary>();
  for (const id of ids) {
    const s = known.get(id);
    if (s && s.status === 'closed') {
      out.set(id, s);
      continue;
    }
    const fresh = await readSummary(sessionsDir, id);
    if (fresh) out.set(id, fresh);
  }
  const path = indexPath(sessionsDir);
  const tmp = `${path}.tmp`;
  const fh = await open(tmp, 'w', FILE_MODE);
  try {
    let chunk: string[] = [];
    for (const s of out.values()) {
      chunk.push(indexLine(s instanceof IndexedSummary ? s.toJSON() : s));
      if (chunk.length >= 1000) {
        await writeFully(fh, `${chunk.join('\n')}\n`);
        chunk = [];
      }
    }
    if (chunk.length > 0) await writeFully(fh, `${chunk.join('\n')}\n`);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
  await fsyncDir(sessionsDir);
  return out.size;
}

export async function indexExists(sessionsDir: string): Promise<boolean> {
  return stat(indexPath(sessionsDir)).then(
    () => true,
    () => false,
  );
}

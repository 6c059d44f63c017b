// `<sessionsDir>/index.ndjson`: one line per session event (opened, closed, shipped, pruned),
// appended, so that `sessions ls` reads one file instead of one sidecar per session.
//
// Why not lowdb (the project's state store): its one JSON document is rewritten whole on every
// change, which at 100,000 sessions is tens of MB per session close. Why not SQLite: node:sqlite
// is not in Node 20 and better-sqlite3 needs a native build. An append-only log costs one small
// write per event; the last line for an id wins. `compactIndex` (compact-index.ts) rewrites it as
// a base sorted by opening time plus the tail appended since (index-layout.ts), so that the newest
// sessions are read from the end without reading the rest. The sidecars stay the source of truth:
// the index is rebuilt from them whenever it is missing, and reconciled with them on compaction.
import { open, readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { errCode, FILE_MODE, writeFully } from '../../lib/file-io.js';
import { isSessionId, type SessionSummary } from '../journal/index.js';
import { chunksForward, selectLines } from './index-lines.js';

// Not .jsonl: that suffix means a session journal to everything that scans this directory.
export const INDEX_FILE = 'index.ndjson';
const META_SUFFIX = '.meta.json';

export type IndexRecord = SessionSummary | { readonly id: string; readonly dropped: true };

export function indexPath(sessionsDir: string): string {
  return join(sessionsDir, INDEX_FILE);
}

const queues = new Map<string, Promise<void>>();

/**
 * Runs index writes of one directory one after another within this process, so compaction can
 * carry over every line appended while it ran (compact-index.ts). Another process appending at
 * that moment (a CLI prune) may lose its line to the rename; the sidecars, which compaction
 * reconciles with, still hold the truth.
 */
export function serially<T>(sessionsDir: string, task: () => Promise<T>): Promise<T> {
  const key = resolve(sessionsDir);
  const run = (queues.get(key) ?? Promise.resolve()).then(task);
  const settled = run.then(
    () => undefined,
    () => undefined,
  );
  queues.set(key, settled);
  void settled.then(() => {
    if (queues.get(key) === settled) queues.delete(key);
  });
  return run;
}

/** One O_APPEND write per record: concurrent writers (server, CLI) never interleave within a line. */
export function appendIndex(sessionsDir: string, record: IndexRecord): Promise<void> {
  const line = `${indexLine(record)}\n`;
  return serially(sessionsDir, async () => {
    const fh = await open(indexPath(sessionsDir), 'a', FILE_MODE);
    try {
      await writeFully(fh, line);
    } finally {
      await fh.close();
    }
  });
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
  readonly #line: string;
  readonly #claimsAt: number;
  constructor(small: Record<string, unknown>, line: string, claimsAt: number) {
    Object.assign(this, small);
    this.#line = line;
    this.#claimsAt = claimsAt;
  }
  /** The summary as JSON, claims last: the index line itself, not serialized again. */
  get json(): string {
    return this.#line;
  }
  get claims(): Readonly<Record<string, unknown>> {
    if (this.#parsed === undefined) {
      let v: unknown;
      try {
        v = JSON.parse(this.#line.slice(this.#claimsAt, -1));
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

/** One index line: a summary, a drop record, or null for a line that is neither. Throws on bad JSON. */
export function parseIndexLine(line: string): IndexedSummary | { id: string; dropped: true } | null {
  const at = line.indexOf(',"claims":');
  const v: unknown = JSON.parse(at > 0 ? `${line.slice(0, at)}}` : line);
  if (typeof v !== 'object' || v === null) return null;
  const o = v as Record<string, unknown>;
  if (typeof o['id'] !== 'string' || !isSessionId(o['id'])) return null;
  if (o['dropped'] === true) return { id: o['id'], dropped: true };
  if (at <= 0 || (o['status'] !== 'open' && o['status'] !== 'closed') || typeof o['openedAt'] !== 'string') return null;
  return new IndexedSummary(o, line, at + ',"claims":'.length);
}

/**
 * Folds index lines into the latest summary per session. Bad lines are skipped, never fatal.
 * `drops` collects the ids whose last record is a drop.
 */
export function foldIndex(lines: readonly string[], into: Map<string, SessionSummary> = new Map(), drops?: Set<string>): Map<string, SessionSummary> {
  for (const line of lines) {
    let row: ReturnType<typeof parseIndexLine>;
    try {
      row = parseIndexLine(line);
    } catch {
      continue; // A torn last line (a crash mid-append) or garbage: the sidecars still hold the truth.
    }
    if (row instanceof IndexedSummary) {
      into.set(row.id, row);
      drops?.delete(row.id);
    } else if (row) {
      into.delete(row.id);
      drops?.add(row.id);
    }
  }
  return into;
}

/** The index as a map, or null when there is no index file. */
export async function readIndex(sessionsDir: string): Promise<Map<string, SessionSummary> | null> {
  let fh;
  try {
    fh = await open(indexPath(sessionsDir), 'r');
  } catch (err) {
    if (errCode(err) === 'ENOENT') return null;
    throw err;
  }
  try {
    const into = new Map<string, SessionSummary>();
    const { size } = await fh.stat();
    for await (const chunk of chunksForward(fh, 0, size)) foldIndex(selectLines(chunk, null), into);
    return into;
  } finally {
    await fh.close();
  }
}

export async function sidecarIds(sessionsDir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(sessionsDir);
  } catch (err) {
    if (errCode(err) === 'ENOENT') return [];
    throw err;
  }
  return names
    .filter((n) => n.endsWith(META_SUFFIX))
    .map((n) => n.slice(0, -META_SUFFIX.length))
    .filter(isSessionId);
}

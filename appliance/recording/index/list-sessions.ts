// `sessions ls`: the sessions that match a filter, newest first. Read from index.ndjson (one file,
// not one sidecar per session: see session-index.ts). With a limit, only the tail and as much of
// the sorted base as the limit needs are read (index-layout.ts), so the default listing costs
// the same at 100 sessions as at 100,000. Open sessions are refreshed from their sidecars (there
// are few, and their entry counts move). Without an index (a state dir from before it), the
// sidecars are read.
import { open, type FileHandle } from 'node:fs/promises';
import { errCode } from '../../lib/file-io.js';
import { linePrefilter, matchesFilter, newestFirst, type SessionFilter } from './filter-sessions.js';
import { readLayout } from './index-layout.js';
import { chunksBackward, chunksForward, compilePrefilter, selectLines } from './index-lines.js';
import { readSummary, type SessionSummary } from '../journal/index.js';
import { foldIndex, IndexedSummary, indexPath, parseIndexLine, sidecarIds } from './session-index.js';

export interface SessionListing {
  /** Newest first, at most `limit`. */
  readonly sessions: SessionSummary[];
  /** How many sessions match in all; null when the listing stopped at the limit without counting the rest. */
  readonly total: number | null;
}

/** Every matching session, newest first. */
export async function listSessions(sessionsDir: string, filter: SessionFilter = {}): Promise<SessionSummary[]> {
  return (await listNewest(sessionsDir, filter, 0)).sessions;
}

/** The newest `limit` matching sessions (all of them for 0). */
export async function listNewest(sessionsDir: string, filter: SessionFilter, limit: number): Promise<SessionListing> {
  let fh: FileHandle;
  try {
    fh = await open(indexPath(sessionsDir), 'r');
  } catch (err) {
    if (errCode(err) !== 'ENOENT') throw err;
    return fromSidecars(sessionsDir, filter, limit);
  }
  try {
    const layout = await readLayout(fh);
    const pre = compilePrefilter(linePrefilter(filter));
    const useBase = limit > 0 && layout.baseTo > layout.baseFrom;
    // The tail (or, for a full listing, the whole file) is folded forwards: the last line wins.
    const tail = new Map<string, SessionSummary>();
    const dropped = new Set<string>();
    for await (const chunk of chunksForward(fh, useBase ? layout.baseTo : 0, layout.size)) foldIndex(selectLines(chunk, pre), tail, dropped);
    const matched: SessionSummary[] = [];
    for (const s of tail.values()) await collect(sessionsDir, s, filter, matched);
    let stoppedEarly = false;
    if (useBase) {
      // The base is sorted oldest first and holds each session once: read it from the end until
      // `limit` of its sessions match; none further back can be newer than those.
      let found = 0;
      scan: for await (const chunk of chunksBackward(fh, layout.baseFrom, layout.baseTo)) {
        const lines = selectLines(chunk, pre);
        for (let i = lines.length - 1; i >= 0; i--) {
          if (found >= limit) {
            stoppedEarly = true;
            break scan;
          }
          let row: ReturnType<typeof parseIndexLine>;
          try {
            row = parseIndexLine(lines[i]!);
          } catch {
            continue;
          }
          if (!(row instanceof IndexedSummary) || tail.has(row.id) || dropped.has(row.id)) continue;
          if (filter.since !== undefined && Date.parse(row.openedAt) < filter.since) break scan;
          if (await collect(sessionsDir, row, filter, matched)) found++;
        }
      }
    }
    matched.sort(newestFirst);
    return { sessions: limit > 0 ? matched.slice(0, limit) : matched, total: stoppedEarly ? null : matched.length };
  } finally {
    await fh.close();
  }
}

/** Adds the session as it is now, if it still matches; an open one is read from its sidecar. */
async function collect(sessionsDir: string, s: SessionSummary, filter: SessionFilter, into: SessionSummary[]): Promise<boolean> {
  const now = s.status === 'open' ? await readSummary(sessionsDir, s.id) : s;
  if (!now || !matchesFilter(now, filter)) return false;
  into.push(now);
  return true;
}

async function fromSidecars(sessionsDir: string, filter: SessionFilter, limit: number): Promise<SessionListing> {
  const matched: SessionSummary[] = [];
  for (const id of await sidecarIds(sessionsDir)) {
    const s = await readSummary(sessionsDir, id);
    if (s && matchesFilter(s, filter)) matched.push(s);
  }
  matched.sort(newestFirst);
  return { sessions: limit > 0 ? matched.slice(0, limit) : matched, total: matched.length };
}

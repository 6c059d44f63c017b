// Reading sessions from disk, for the CLI, with or without a server running. Nothing here
// writes to a journal: an open session is read up to its last complete line and left alone.
import { open, type FileHandle } from 'node:fs/promises';
import { errCode } from '../../lib/file-io.js';
import { readJournalLines, readSummary, SessionFileError, sessionPaths, type SessionSummary } from '../journal/index.js';
import { DEFAULT_CREATOR_VERSION } from './finalize-journal.js';
import { streamHar } from '../har/index.js';

export { finalizeJournal, type FinalizeOptions, type FinalizeResult } from './finalize-journal.js';
export type { SessionSummary } from '../journal/index.js';
export { listSessions, listNewest, type SessionListing } from '../index/index.js';

async function openIfExists(path: string): Promise<FileHandle | null> {
  try {
    return await open(path, 'r');
  } catch (err) {
    if (errCode(err) === 'ENOENT') return null;
    throw err;
  }
}

function notFound(id: string): SessionFileError {
  return new SessionFileError('SESSION_NOT_FOUND', `no session ${id} (airlock sessions ls lists the known ones)`);
}

/**
 * Opens the session's final HAR, or else its journal. The journal is opened before anything is
 * decided, so a close that removes it meanwhile cannot pull it away mid-read; a close that
 * finished between the two looks shows up as the HAR on the second look.
 */
async function openSession(sessionsDir: string, id: string): Promise<{ kind: 'har' | 'journal'; fh: FileHandle }> {
  const paths = sessionPaths(sessionsDir, id);
  for (let attempt = 0; attempt < 2; attempt++) {
    const har = await openIfExists(paths.har);
    if (har) return { kind: 'har', fh: har };
    const journal = await openIfExists(paths.journal);
    if (journal) return { kind: 'journal', fh: journal };
  }
  throw notFound(id);
}

function writeTo(out: NodeJS.WritableStream): (chunk: string | Buffer) => Promise<void> {
  return (chunk) =>
    new Promise<void>((resolve, reject) => {
      out.write(chunk, (err) => (err ? reject(err) : resolve()));
    });
}

/**
 * Writes the session's HAR to `out` (which is not ended): the final file for a closed session,
 * a snapshot built from the journal as it is now for an open one.
 */
export async function exportSession(
  sessionsDir: string,
  id: string,
  out: NodeJS.WritableStream,
  opts: { readonly creatorVersion?: string } = {},
): Promise<'har' | 'journal'> {
  const { kind, fh } = await openSession(sessionsDir, id);
  const write = writeTo(out);
  try {
    if (kind === 'har') {
      for await (const chunk of fh.createReadStream({ autoClose: false, highWaterMark: 256 * 1024 }) as AsyncIterable<Buffer>) {
        await write(chunk);
      }
      return kind;
    }
    const { size } = await fh.stat();
    await streamHar({
      sessionId: id,
      fallbackMeta: await readSummary(sessionsDir, id),
      closedAt: null,
      closeReason: null,
      creatorVersion: opts.creatorVersion ?? DEFAULT_CREATOR_VERSION,
      lines: readJournalLines(fh, { endAt: size }),
      write,
    });
    return kind;
  } finally {
    await fh.close();
  }
}

const EXCHANGE_PREFIX = /^\{"type":"exchange","id":"((?:[^"\\]|\\.){0,200})"/;
const BEGIN_PREFIX = /^\{"type":"begin","id":"((?:[^"\\]|\\.){0,200})"/;

/** Entries a snapshot would hold: exchanges plus begins still waiting, without parsing bodies. */
async function countJournalEntries(fh: FileHandle): Promise<number> {
  const { size } = await fh.stat();
  const pending = new Set<string>();
  let exchanges = 0;
  for await (const line of readJournalLines(fh, { endAt: size })) {
    const ex = EXCHANGE_PREFIX.exec(line);
    if (ex) {
      exchanges++;
      pending.delete(ex[1] ?? '');
      continue;
    }
    const b = BEGIN_PREFIX.exec(line);
    if (b) pending.add(b[1] ?? '');
  }
  return exchanges + pending.size;
}

export async function showSession(sessionsDir: string, id: string): Promise<SessionSummary & { entries: number }> {
  const summary = await readSummary(sessionsDir, id);
  const { kind, fh } = await openSession(sessionsDir, id);
  try {
    if (!summary) throw notFound(id);
    if (kind === 'har') return { ...summary, entries: summary.entryCount };
    return { ...summary, entries: await countJournalEntries(fh) };
  } finally {
    await fh.close();
  }
}

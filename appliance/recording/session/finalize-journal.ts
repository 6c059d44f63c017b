// Turns a journal into its final HAR: stream to <id>.har.tmp, fsync, rename to <id>.har, write
// the closed sidecar, then remove the journal. Each step leaves something recover() can redo.
import { open, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { AirlockError } from '../../errors.js';
import { errCode, FILE_MODE, fsyncDir, writeFully } from '../../lib/file-io.js';
import { identityFields, readJournalLines, readSummary, SessionFileError, sessionPaths, type SessionSummary, writeSummary } from '../journal/index.js';
import { appendIndex } from '../index/index.js';
import { streamHar } from '../har/index.js';

export interface FinalizeOptions {
  readonly now?: () => number;
  readonly creatorVersion?: string;
  /** Known by the live store; after a crash the sidecar's (or the close time) is used. */
  readonly lastActivityAt?: string;
  /**
   * Runs once the HAR is in place and before the journal is removed (so a crash in it is redone
   * by recovery): writes the signature, queues the upload. A throw fails the finalize.
   */
  readonly seal?: (id: string, harPath: string) => Promise<void>;
}

export interface FinalizeResult {
  readonly harPath: string;
  readonly entryCount: number;
  readonly badLines: number;
}

export const DEFAULT_CREATOR_VERSION = 'unknown';

export async function finalizeJournal(sessionsDir: string, id: string, reason: string, opts: FinalizeOptions = {}): Promise<FinalizeResult> {
  const paths = sessionPaths(sessionsDir, id);
  const closedAt = new Date((opts.now ?? Date.now)()).toISOString();
  let journal;
  try {
    journal = await open(paths.journal, 'r');
  } catch (err) {
    if (errCode(err) === 'ENOENT') {
      const closed = await stat(paths.har).then(
        () => true,
        () => false,
      );
      throw new SessionFileError('SESSION_NOT_FOUND', closed ? `session ${id} is already closed` : `no session ${id}`);
    }
    throw new AirlockError('RECORDING_FAILED', `cannot read the journal of session ${id}: ${errCode(err)}`, { cause: err });
  }
  let step = 'read the journal';
  try {
    const sidecar = await readSummary(sessionsDir, id);
    step = 'write the HAR';
    const out = await open(paths.harTmp, 'w', FILE_MODE);
    let result;
    try {
      const stats = { skipped: 0 };
      result = await streamHar({
        sessionId: id,
        fallbackMeta: sidecar,
        closedAt,
        closeReason: reason,
        creatorVersion: opts.creatorVersion ?? DEFAULT_CREATOR_VERSION,
        lines: readJournalLines(journal, {}, stats),
        write: (chunk) => writeFully(out, chunk),
      });
      await out.sync();
    } finally {
      await out.close();
    }
    await rename(paths.harTmp, paths.har);
    await fsyncDir(dirname(paths.har));
    step = 'seal the HAR';
    await opts.seal?.(id, paths.har);
    step = 'write the summary';
    const meta = result.meta;
    const summary: SessionSummary = {
      id,
      ...identityFields(meta),
      openedAt: meta?.openedAt ?? sidecar?.openedAt ?? closedAt,
      status: 'closed',
      closedAt,
      closeReason: reason,
      entryCount: result.entryCount,
      lastActivityAt: opts.lastActivityAt ?? sidecar?.lastActivityAt ?? closedAt,
    };
    await writeSummary(sessionsDir, summary, { sync: true });
    step = 'index the session';
    await appendIndex(sessionsDir, summary);
    step = 'remove the journal';
    await rm(paths.journal, { force: true });
    return { harPath: paths.har, entryCount: result.entryCount, badLines: result.badLines };
  } catch (err) {
    if (err instanceof AirlockError || err instanceof SessionFileError) throw err;
    throw new AirlockError('RECORDING_FAILED', `could not ${step} of session ${id}: ${errCode(err)}`, { cause: err });
  } finally {
    await journal.close();
  }
}

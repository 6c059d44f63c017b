import { readdir } from 'node:fs/promises';
import type { Logger } from '../../log.js';
import { errCode } from '../../lib/file-io.js';
import { finalizeJournal, type FinalizeOptions } from './finalize-journal.js';
import { isSessionId } from '../journal/index.js';

const RECOVER_REASON = 'recovered after an unclean stop';

/** Finalizes every journal in the directory except those `skip` names; returns the ids done. */
export async function recoverJournals(sessionsDir: string, skip: (id: string) => boolean, opts: FinalizeOptions, log: Logger): Promise<string[]> {
  const names = await readdir(sessionsDir);
  const done: string[] = [];
  for (const name of names.sort()) {
    const id = name.endsWith('.jsonl') ? name.slice(0, -'.jsonl'.length) : '';
    if (!isSessionId(id) || skip(id)) continue;
    try {
      const r = await finalizeJournal(sessionsDir, id, RECOVER_REASON, opts);
      log.warn({ session: id, entries: r.entryCount, badLines: r.badLines }, 'recovered an orphaned session journal');
      done.push(id);
    } catch (err) {
      // One bad journal must not keep the others (or the server) from starting.
      log.error({ session: id, code: errCode(err) }, 'could not recover a session journal; it is left in place');
    }
  }
  return done;
}

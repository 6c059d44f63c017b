// Makes the open sessions' journals durable: an fsync of each dirty journal (and a refreshed
// summary) at least once a second while any session is open.
import { errCode } from '../../lib/file-io.js';
import { writeSummary } from '../journal/index.js';
import { fail, type StoreContext, summaryOf } from './store-context.js';

const FLUSH_INTERVAL_MS = 1000;

export class JournalFlusher {
  private readonly ctx: StoreContext;
  private timer: NodeJS.Timeout | null = null;

  constructor(ctx: StoreContext) {
    this.ctx = ctx;
  }

  /** One pass: a journal that cannot be fsynced closes its session. */
  async flush(): Promise<void> {
    const ctx = this.ctx;
    for (const s of ctx.sessions.values()) {
      if (s.closing) continue;
      try {
        await s.writer.syncIfDirty();
      } catch (err) {
        fail(ctx.log, 'cannot fsync the session journal', err, s.meta.id);
        ctx.closeFailed(s.meta.id);
        continue;
      }
      if (s.summaryDirty && !s.closing) {
        s.summaryDirty = false;
        // Queued with the journal's writes so it cannot land after the close's final summary.
        await s.writer
          .run(() => writeSummary(ctx.opts.sessionsDir, summaryOf(s, 'open', null, null), { sync: false }))
          .catch((err: unknown) => {
            ctx.log.warn({ session: s.meta.id, code: errCode(err) }, 'could not refresh the session summary');
          });
      }
    }
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.flush(), FLUSH_INTERVAL_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}

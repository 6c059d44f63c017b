// Closes sessions and finalizes their journals into HARs: one on request, every one at shutdown,
// and the idle ones, swept on a timer.
import { errCode } from '../../lib/file-io.js';
import { finalizeJournal } from './finalize-journal.js';
import { isIdle } from './is-idle.js';
import type { ExchangeRecorder } from './exchange-recorder.js';
import type { JournalFlusher } from './journal-flusher.js';
import { fail, finalizeOptions, iso, type OpenSession, type StoreContext } from './store-context.js';

export class SessionCloser {
  private readonly ctx: StoreContext;
  private readonly recorder: ExchangeRecorder;
  private readonly flusher: JournalFlusher;
  private sweepTimer: NodeJS.Timeout | null = null;

  constructor(ctx: StoreContext, recorder: ExchangeRecorder, flusher: JournalFlusher) {
    this.ctx = ctx;
    this.recorder = recorder;
    this.flusher = flusher;
  }

  /** See SessionStore.close. */
  close(id: string, reason: string): Promise<string | null> {
    const ctx = this.ctx;
    const s = ctx.sessions.get(id);
    if (!s) return Promise.resolve(null);
    if (s.closing) return s.closing;
    if (ctx.byKey.get(s.meta.key) === s.keyEntry) ctx.byKey.delete(s.meta.key);
    s.closing = this.finish(s, reason);
    return s.closing;
  }

  /** StoreContext.closeFailed. */
  closeFailed(id: string): void {
    void this.close(id, 'recording failed').catch(() => undefined);
  }

  private async finish(s: OpenSession, reason: string): Promise<string> {
    const ctx = this.ctx;
    const id = s.meta.id;
    try {
      // The disk may have room by now: the pending short lines go in before the HAR is made.
      await this.recorder.writeUnrecorded(s).catch(() => {
        ctx.log.error({ session: id, unrecorded: s.unrecorded.size }, 'closing a session whose failed records could not be written either');
      });
      try {
        await s.writer.close();
      } catch (err) {
        // What reached the file is still finalized; a torn last line is skipped.
        ctx.log.error({ session: id, code: errCode(err) }, 'closing the session journal failed');
      }
      const r = await finalizeJournal(ctx.opts.sessionsDir, id, reason, finalizeOptions(ctx, iso(s.lastActivity)));
      ctx.log.info({ session: id, reason, entries: r.entryCount, badLines: r.badLines }, 'session closed');
      return r.harPath;
    } catch (err) {
      throw fail(ctx.log, `cannot finalize session ${id}; the journal is kept for recovery: ${errCode(err)}`, err, id);
    } finally {
      // Exchanges that will never be recorded here no longer count as in flight.
      this.recorder.forget(s);
      ctx.sessions.delete(id);
      ctx.opts.onClosed?.(id);
      if (ctx.sessions.size === 0) this.flusher.stop();
    }
  }

  /** See SessionStore.closeAll. */
  async closeAll(reason: string): Promise<void> {
    const ctx = this.ctx;
    ctx.shuttingDown = true;
    this.stopIdleSweeper();
    await Promise.allSettled([...ctx.byKey.values()]);
    const results = await Promise.allSettled([...ctx.sessions.keys()].map((id) => this.close(id, reason)));
    for (const r of results) {
      if (r.status === 'rejected') ctx.log.error({ code: errCode(r.reason) }, 'a session could not be finalized at shutdown');
    }
    this.flusher.stop();
  }

  /** See SessionStore.closeIdle; isIdle says when a session is idle. */
  async closeIdle(): Promise<string[]> {
    const ctx = this.ctx;
    const now = ctx.now();
    const idle = [...ctx.sessions.values()].filter(
      (s) => !s.closing && isIdle({ now, lastActivity: s.lastActivity, inFlight: s.inFlight.size + s.unrecorded.size, idleTimeoutMs: ctx.opts.idleTimeoutMs }),
    );
    const closed: string[] = [];
    for (const s of idle) {
      try {
        await this.close(s.meta.id, 'idle');
        closed.push(s.meta.id);
      } catch {
        // Logged by finish(); the journal stays for recover().
      }
    }
    return closed;
  }

  startIdleSweeper(): void {
    if (this.sweepTimer) return;
    const every = Math.min(Math.max(Math.floor(this.ctx.opts.idleTimeoutMs / 4), 250), 30_000);
    this.sweepTimer = setInterval(() => void this.closeIdle(), every);
    this.sweepTimer.unref();
  }

  stopIdleSweeper(): void {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = null;
  }
}

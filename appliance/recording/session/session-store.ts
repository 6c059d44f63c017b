// The live side of recording, as one object the proxy holds: open sessions, their journals, idle
// closing and finalizing. Each job is a part of its own, sharing a StoreContext (store-context.ts):
// opening (session-opener.ts), the journal lines of an exchange (exchange-recorder.ts), closing
// (session-closer.ts) and the periodic fsync (journal-flusher.ts). Every write that fails throws
// RECORDING_FAILED, and the proxy then refuses to go on (fail closed).
import type { Identity } from '../../identity/types.js';
import { errCode } from '../../lib/file-io.js';
import { recoverJournals } from './recover-journals.js';
import type { Exchange, Secret, SessionMeta } from '../../lib/exchange-types.js';
import { type ExchangeBegin, ExchangeRecorder } from './exchange-recorder.js';
import { JournalFlusher } from './journal-flusher.js';
import { SessionCloser } from './session-closer.js';
import { SessionOpener } from './session-opener.js';
import { fail, finalizeOptions, type SessionStoreOptions, type StoreContext } from './store-context.js';

export type { SessionStoreOptions } from './store-context.js';

export class SessionStore {
  private readonly ctx: StoreContext;
  private readonly recorder: ExchangeRecorder;
  private readonly flusher: JournalFlusher;
  private readonly closer: SessionCloser;
  private readonly opener: SessionOpener;

  constructor(opts: SessionStoreOptions) {
    this.ctx = {
      opts,
      now: opts.now ?? Date.now,
      log: opts.log.child({ component: 'recording' }),
      sessions: new Map(),
      byKey: new Map(),
      shuttingDown: false,
      closeFailed: (id) => {
        this.closer.closeFailed(id);
      },
    };
    this.recorder = new ExchangeRecorder(this.ctx);
    this.flusher = new JournalFlusher(this.ctx);
    this.closer = new SessionCloser(this.ctx, this.recorder, this.flusher);
    this.opener = new SessionOpener(this.ctx, this.flusher);
  }

  /** Finalizes every journal left behind by a previous process. Call once before serving. */
  async recover(): Promise<string[]> {
    const ctx = this.ctx;
    try {
      await this.opener.ensureDir();
    } catch (err) {
      throw fail(ctx.log, `the sessions directory cannot be used: ${errCode(err)}`, err);
    }
    // Not taken yet, begin() takes it (and refuses until it can).
    await ctx.opts.reserve?.take().catch((err: unknown) => ctx.log.warn({ code: errCode(err) }, 'cannot set disk space aside for the recording'));
    return recoverJournals(ctx.opts.sessionsDir, (id) => ctx.sessions.has(id), finalizeOptions(ctx), ctx.log);
  }

  /**
   * The open session for this identity's key, opened if there is none. A session already open is
   * returned as a value, not a promise: every request of a job but its first goes on in the same
   * turn. Opening one (files, fsync) is asynchronous.
   */
  ensure(identity: Identity, extra: { readonly replayOf?: string } = {}): SessionMeta | Promise<SessionMeta> {
    return this.opener.ensure(identity, extra);
  }

  /** Sessions open now (metrics). */
  get openCount(): number {
    return this.ctx.sessions.size;
  }

  /**
   * Written before the request goes upstream: if this rejects, the request must not be forwarded.
   * Undefined when the line is already in the file (a quiet proxy: see journal-writer.ts), so
   * that the request goes on in the same turn; else a promise.
   */
  begin(sessionId: string, b: ExchangeBegin, secrets: readonly Secret[] = []): Promise<void> | undefined {
    return this.recorder.begin(sessionId, b, secrets);
  }

  /**
   * Written before the response reaches the client: if this rejects, the client must get an error,
   * RECORDING_INCOMPLETE when `ex` has a response (its request was forwarded), else RECORDING_FAILED.
   * Either way a short line for `ex` is pending, and written as soon as the disk takes it.
   * Undefined when the line is already in the file, as for begin().
   */
  record(sessionId: string, ex: Exchange, secrets: readonly Secret[]): Promise<void> | undefined {
    return this.recorder.record(sessionId, ex, secrets);
  }

  /** The id of the open session for this key, or null: `airlock logout` closes the job's session by it. */
  openIdForKey(key: string): Promise<string | null> {
    return this.opener.openIdForKey(key);
  }

  isOpen(id: string): boolean {
    const s = this.ctx.sessions.get(id);
    return s !== undefined && s.closing === null;
  }

  /** Closes and finalizes a session; waits for writes already under way. Null if it is not open. */
  close(id: string, reason: string): Promise<string | null> {
    return this.closer.close(id, reason);
  }

  /** Closes every open session (shutdown). Afterwards `ensure` refuses with SHUTTING_DOWN. */
  closeAll(reason: string): Promise<void> {
    return this.closer.closeAll(reason);
  }

  /** Closes sessions idle for idleTimeoutMs (with nothing in flight, unless stuck for 4x that). */
  closeIdle(): Promise<string[]> {
    return this.closer.closeIdle();
  }

  startIdleSweeper(): void {
    this.closer.startIdleSweeper();
  }

  stopIdleSweeper(): void {
    this.closer.stopIdleSweeper();
  }

  /** fsync dirty journals (and refresh their summaries) at least once a second. */
  flush(): Promise<void> {
    return this.flusher.flush();
  }
}

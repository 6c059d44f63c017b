// The live side of recording: open sessions, their journals, idle closing and finalizing.
// Every write that fails throws RECORDING_FAILED, and the proxy then refuses to go on (fail closed).
// A record that fails after its request was forwarded throws RECORDING_INCOMPLETE instead, and
// leaves a short "forwarded, response not recorded" line pending (unrecorded-exchange.ts): the
// session begins no new exchange until that line is in the journal. With a space reserve
// (space-reserve.ts) that line gets room even on a full disk, and then every session waits for the
// reserve to be taken back before it begins a new exchange.
import { chmod, mkdir } from 'node:fs/promises';
import { AirlockError } from '../../errors.js';
import type { Identity } from '../../identity/types.js';
import type { Logger } from '../../log.js';
import { errCode, DIR_MODE } from '../../lib/file-io.js';
import { DEFAULT_CREATOR_VERSION, finalizeJournal, type FinalizeOptions } from './finalize-journal.js';
import {
  isSessionId,
  type JournalBeginLine,
  JournalWriter,
  newSessionId,
  type OpenJournalFile,
  PendingLines,
  sessionMetaOf,
  sessionPaths,
  type SessionSummary,
  toJournalExchange,
  unrecordedExchange,
  writeSummary,
} from '../journal/index.js';
import { CHAIN_ALG, newChainOrigin } from '../integrity/index.js';
import { appendIndex } from '../index/index.js';
import { prepareSecrets, redactUrl } from '../../secrets/redact.js';
import { isIdle } from './is-idle.js';
import { recoverJournals } from './recover-journals.js';
import { sessionKey as keyOf } from '../../identity/session-key.js';
import type { Exchange, Secret, SessionMeta } from '../../lib/exchange-types.js';
import type { SpaceReserve } from './space-reserve.js';

export interface SessionStoreOptions {
  readonly sessionsDir: string;
  readonly maxBodyBytes: number;
  readonly idleTimeoutMs: number;
  readonly log: Logger;
  readonly now?: () => number;
  readonly creatorVersion?: string;
  /** See FinalizeOptions.seal: signs the HAR and queues its upload. */
  readonly seal?: (id: string, harPath: string) => Promise<void>;
  /** Opens a new journal file (tests put a disk quota in front of it). */
  readonly openJournal?: OpenJournalFile;
  /** Space given up for the short lines of failed records; none when absent. */
  readonly reserve?: SpaceReserve;
  /** Told when a session is gone (closed, idle, failed): the proxy drops its upstream pool. */
  readonly onClosed?: (id: string) => void;
}

interface OpenSession {
  readonly meta: SessionMeta;
  readonly writer: JournalWriter;
  readonly keyEntry: Promise<OpenSession>;
  lastActivity: number;
  entryCount: number;
  summaryDirty: boolean;
  /** Begun exchanges not yet recorded: an idle sweep leaves such a session open. */
  readonly inFlight: Set<string>;
  /** Short lines for records that failed: written before any new begin. */
  readonly unrecorded: PendingLines;
  closing: Promise<string | null> | null;
}

const FLUSH_INTERVAL_MS = 1000;

export class SessionStore {
  private readonly opts: SessionStoreOptions;
  private readonly now: () => number;
  private readonly log: Logger;
  private readonly sessions = new Map<string, OpenSession>();
  private readonly byKey = new Map<string, Promise<OpenSession>>();
  /** What each of byKey's promises resolved to, once it has: ensure() answers from it without awaiting. */
  private readonly opened = new WeakMap<Promise<OpenSession>, OpenSession>();
  private readonly maxDecodedBytes: number;
  private dirReady: Promise<void> | null = null;
  private flushTimer: NodeJS.Timeout | null = null;
  private sweepTimer: NodeJS.Timeout | null = null;
  private shuttingDown = false;
  /** Begun exchanges not yet recorded, over every session: none besides the caller's lets it write now (journal-writer.ts). */
  private inFlightTotal = 0;

  constructor(opts: SessionStoreOptions) {
    this.opts = opts;
    this.now = opts.now ?? Date.now;
    this.log = opts.log.child({ component: 'recording' });
    // A gzip body can expand a thousandfold: decoding gets a cap of its own.
    this.maxDecodedBytes = Math.max(opts.maxBodyBytes, Math.min(opts.maxBodyBytes * 8, 64 * 1024 * 1024), 1024 * 1024);
  }

  private iso(ms = this.now()): string {
    return new Date(ms).toISOString();
  }

  private fail(reason: string, err: unknown, sessionId?: string): AirlockError {
    this.log.error({ session: sessionId, reason, code: errCode(err) }, 'recording failed');
    return new AirlockError('RECORDING_FAILED', reason, { cause: err });
  }

  private ensureDir(): Promise<void> {
    this.dirReady ??= (async () => {
      await mkdir(this.opts.sessionsDir, { recursive: true, mode: DIR_MODE });
      await chmod(this.opts.sessionsDir, DIR_MODE);
    })().catch((err: unknown) => {
      this.dirReady = null;
      throw err;
    });
    return this.dirReady;
  }

  /** Finalizes every journal left behind by a previous process. Call once before serving. */
  async recover(): Promise<string[]> {
    try {
      await this.ensureDir();
    } catch (err) {
      throw this.fail(`the sessions directory cannot be used: ${errCode(err)}`, err);
    }
    // Not taken yet, begin() takes it (and refuses until it can).
    await this.opts.reserve?.take().catch((err: unknown) => this.log.warn({ code: errCode(err) }, 'cannot set disk space aside for the recording'));
    return recoverJournals(this.opts.sessionsDir, (id) => this.sessions.has(id), this.finalizeOpts(), this.log);
  }

  private finalizeOpts(lastActivityAt?: string): FinalizeOptions {
    return {
      now: this.now,
      creatorVersion: this.opts.creatorVersion ?? DEFAULT_CREATOR_VERSION,
      ...(lastActivityAt !== undefined ? { lastActivityAt } : {}),
      ...(this.opts.seal ? { seal: this.opts.seal } : {}),
    };
  }

  /**
   * The open session for this identity's key, opened if there is none. A session already open is
   * returned as a value, not a promise: every request of a job but its first goes on in the same
   * turn. Opening one (files, fsync) is asynchronous.
   */
  ensure(identity: Identity, extra: { readonly replayOf?: string } = {}): SessionMeta | Promise<SessionMeta> {
    const key = keyOf(identity);
    const entry = this.byKey.get(key);
    const s = entry && this.opened.get(entry);
    // The same checks as the loop below makes after its await, on a session known to be open.
    if (s && !s.closing && !this.shuttingDown) {
      s.lastActivity = this.now();
      return s.meta;
    }
    return this.ensureAsync(identity, key, extra);
  }

  private async ensureAsync(identity: Identity, key: string, extra: { readonly replayOf?: string }): Promise<SessionMeta> {
    for (;;) {
      if (this.shuttingDown) throw new AirlockError('SHUTTING_DOWN');
      let entry = this.byKey.get(key);
      if (!entry) {
        const p: Promise<OpenSession> = this.openSession(identity, key, () => p, extra.replayOf);
        entry = p;
        this.byKey.set(key, p);
        p.then(
          (opened) => this.opened.set(p, opened),
          () => {
            if (this.byKey.get(key) === p) this.byKey.delete(key);
          },
        );
      }
      const s = await entry;
      // A close may have started while we waited: it dropped the key, so loop and open anew.
      if (s.closing) continue;
      s.lastActivity = this.now();
      return s.meta;
    }
  }

  private async openSession(identity: Identity, key: string, self: () => Promise<OpenSession>, replayOf?: string): Promise<OpenSession> {
    const openedAtMs = this.now();
    const base = sessionMetaOf(identity, key, newSessionId(openedAtMs), this.iso(openedAtMs));
    const meta: SessionMeta = replayOf !== undefined ? { ...base, replayOf } : base;
    let writer: JournalWriter;
    try {
      await this.ensureDir();
      const first = { type: 'session', ...meta, chain: { alg: CHAIN_ALG, origin: newChainOrigin() } };
      writer = await JournalWriter.create(sessionPaths(this.opts.sessionsDir, meta.id).journal, JSON.stringify(first), this.opts.openJournal);
    } catch (err) {
      throw this.fail(`cannot create a session journal: ${errCode(err)}`, err, meta.id);
    }
    const s: OpenSession = {
      meta,
      writer,
      keyEntry: self(),
      lastActivity: openedAtMs,
      entryCount: 0,
      summaryDirty: false,
      inFlight: new Set(),
      unrecorded: new PendingLines(),
      closing: null,
    };
    this.sessions.set(meta.id, s);
    try {
      await writeSummary(this.opts.sessionsDir, this.summary(s, 'open', null, null), { sync: true });
      await appendIndex(this.opts.sessionsDir, this.summary(s, 'open', null, null));
    } catch (err) {
      void this.close(meta.id, 'recording failed').catch(() => undefined);
      throw this.fail(`cannot write the session summary: ${errCode(err)}`, err, meta.id);
    }
    this.startFlushing();
    this.log.info({ session: meta.id, issuer: meta.issuer, grant: meta.grant, sub: meta.sub }, 'session opened');
    return s;
  }

  private summary(s: OpenSession, status: 'open' | 'closed', closedAt: string | null, closeReason: string | null): SessionSummary {
    return { ...s.meta, status, closedAt, closeReason, entryCount: s.entryCount, lastActivityAt: this.iso(s.lastActivity) };
  }

  private live(sessionId: string): OpenSession {
    const s = this.sessions.get(sessionId);
    if (!s || s.closing) throw new AirlockError('RECORDING_FAILED', `session ${isSessionId(sessionId) ? sessionId : '?'} is not open`);
    return s;
  }

  /**
   * The line in the journal: undefined when it was written now (`alone`, and nothing queued: see
   * journal-writer.ts), else the promise of its batch. A failure rejects with RECORDING_FAILED.
   */
  private append(s: OpenSession, line: string, alone: boolean): Promise<void> | undefined {
    try {
      if (alone && s.writer.appendNow(line)) return undefined;
    } catch (err) {
      return Promise.reject(this.appendFailed(s, err));
    }
    return s.writer.append(line).catch((err: unknown) => {
      throw this.appendFailed(s, err);
    });
  }

  private appendFailed(s: OpenSession, err: unknown): AirlockError {
    this.closeIfBroken(s);
    return this.fail(`cannot append to the session journal: ${errCode(err)}`, err, s.meta.id);
  }

  /**
   * A failed write is cut off the journal and the session stays open (the disk may get room
   * again, and the pending lines must land in this session). Only a journal that could not be cut
   * back is closed, so that the next request opens a fresh session.
   */
  private closeIfBroken(s: OpenSession): void {
    if (s.writer.failure !== null) void this.close(s.meta.id, 'recording failed').catch(() => undefined);
  }

  /**
   * Writes the pending short lines of failed records, giving up the space reserve when the disk
   * has no room for them; RECORDING_FAILED while they cannot be written.
   */
  private async writeUnrecorded(s: OpenSession): Promise<void> {
    let n: number;
    try {
      n = await s.unrecorded.writeTo(s.writer);
    } catch (err) {
      const released = s.writer.failure === null && (await this.opts.reserve?.release().catch(() => false));
      if (released) this.log.warn({ session: s.meta.id }, 'the disk is full: the space reserve is given up to record what became of a forwarded request');
      try {
        if (!released) throw err;
        n = await s.unrecorded.writeTo(s.writer);
      } catch (err2) {
        this.closeIfBroken(s);
        throw this.fail(`an earlier exchange's outcome is not recorded yet: ${errCode(err2)}`, err2, s.meta.id);
      }
    }
    if (n > 0) {
      s.entryCount += n;
      s.summaryDirty = true;
    }
  }

  /** A reserve given up is taken back before any new exchange: the test that the disk has room again. */
  private async takeReserve(s: OpenSession): Promise<void> {
    const reserve = this.opts.reserve;
    if (!reserve || reserve.held) return;
    try {
      await reserve.take();
    } catch (err) {
      throw this.fail(`the disk has no room to set recording space aside: ${errCode(err)}`, err, s.meta.id);
    }
  }

  /** Sessions open now (metrics). */
  get openCount(): number {
    return this.sessions.size;
  }

  /**
   * Written before the request goes upstream: if this rejects, the request must not be forwarded.
   * Undefined when the line is already in the file (a quiet proxy: see journal-writer.ts), so
   * that the request goes on in the same turn; else a promise.
   */
  begin(
    sessionId: string,
    b: { readonly id: string; readonly startedDateTime: string; readonly method: string; readonly url: string; readonly note?: string },
    secrets: readonly Secret[] = [],
  ): Promise<void> | undefined {
    let s: OpenSession;
    try {
      s = this.live(sessionId);
    } catch (err) {
      return Promise.reject(err);
    }
    // Fail closed in order: what became of an earlier exchange is on disk before a new one starts.
    // (Checked here first: with nothing pending and the reserve held, as on nearly every exchange,
    // neither step has anything to do, and each would cost its promises.)
    if (s.unrecorded.size > 0 || (this.opts.reserve && !this.opts.reserve.held)) return this.beginAfterPending(s, b, secrets);
    return this.writeBegin(s, b, secrets);
  }

  private async beginAfterPending(s: OpenSession, b: Parameters<SessionStore['begin']>[1], secrets: readonly Secret[]): Promise<void> {
    if (s.unrecorded.size > 0) await this.writeUnrecorded(s);
    if (this.opts.reserve && !this.opts.reserve.held) await this.takeReserve(s);
    await this.writeBegin(s, b, secrets);
  }

  private writeBegin(s: OpenSession, b: Parameters<SessionStore['begin']>[1], secrets: readonly Secret[]): Promise<void> | undefined {
    let text: string;
    try {
      const line: JournalBeginLine = {
        type: 'begin',
        id: b.id,
        startedDateTime: b.startedDateTime,
        method: b.method,
        url: redactUrl(b.url, prepareSecrets(secrets)),
        ...(b.note !== undefined ? { note: b.note } : {}),
      };
      text = JSON.stringify(line);
    } catch (err) {
      return Promise.reject(err);
    }
    const alone = this.inFlightTotal === 0;
    this.track(s, b.id);
    s.lastActivity = this.now();
    const written = this.append(s, text, alone);
    return written?.catch((err: unknown) => {
      this.untrack(s, b.id);
      throw err;
    });
  }

  /**
   * Written before the response reaches the client: if this rejects, the client must get an error,
   * RECORDING_INCOMPLETE when `ex` has a response (its request was forwarded), else RECORDING_FAILED.
   * Either way a short line for `ex` is pending, and written as soon as the disk takes it.
   * Undefined when the line is already in the file, as for begin().
   */
  record(sessionId: string, ex: Exchange, secrets: readonly Secret[]): Promise<void> | undefined {
    let s: OpenSession;
    try {
      s = this.live(sessionId);
    } catch (err) {
      return Promise.reject(err);
    }
    const prepared = prepareSecrets(secrets);
    s.lastActivity = this.now();
    const alone = this.inFlightTotal === (s.inFlight.has(ex.id) ? 1 : 0);
    let line: string;
    try {
      line = JSON.stringify(toJournalExchange(ex, prepared, { maxDecodedBytes: this.maxDecodedBytes }));
      if (alone && s.writer.appendNow(line)) {
        this.recorded(s, ex.id);
        return undefined;
      }
    } catch (err) {
      return this.recordFailed(s, ex, prepared, err);
    }
    return s.writer.append(line).then(
      () => {
        this.recorded(s, ex.id);
      },
      (err: unknown) => this.recordFailed(s, ex, prepared, err),
    );
  }

  private recorded(s: OpenSession, id: string): void {
    this.untrack(s, id);
    s.entryCount++;
    s.summaryDirty = true;
  }

  // Encoding (a body beyond what can be decoded) or the write failed: keep the short line.
  private async recordFailed(s: OpenSession, ex: Exchange, prepared: ReturnType<typeof prepareSecrets>, err: unknown): Promise<never> {
    this.fail(`cannot record the exchange: ${errCode(err)}`, err, s.meta.id);
    s.unrecorded.add(ex.id, this.unrecordedLine(ex, errCode(err), prepared));
    this.untrack(s, ex.id);
    this.closeIfBroken(s);
    // It may fit where the full record did not: then the session is whole again at once.
    await this.writeUnrecorded(s).catch(() => undefined);
    const detail = `the session journal could not take it: ${errCode(err)}`;
    throw new AirlockError(ex.response !== null ? 'RECORDING_INCOMPLETE' : 'RECORDING_FAILED', detail, { cause: err });
  }

  private track(s: OpenSession, id: string): void {
    if (s.inFlight.has(id)) return;
    s.inFlight.add(id);
    this.inFlightTotal++;
  }

  private untrack(s: OpenSession, id: string): void {
    if (s.inFlight.delete(id)) this.inFlightTotal--;
  }

  private unrecordedLine(ex: Exchange, why: string, prepared: ReturnType<typeof prepareSecrets>): string {
    const short = unrecordedExchange(ex, why);
    try {
      return JSON.stringify(toJournalExchange(short, prepared, { maxDecodedBytes: this.maxDecodedBytes }));
    } catch {
      // Headers that cannot be encoded either: the line still says what happened, and to what.
      return JSON.stringify(toJournalExchange({ ...short, request: { ...short.request, headers: [] } }, prepared, { maxDecodedBytes: this.maxDecodedBytes }));
    }
  }

  /** The id of the open session for this key, or null: `airlock logout` closes the job's session by it. */
  async openIdForKey(key: string): Promise<string | null> {
    const entry = this.byKey.get(key);
    if (!entry) return null;
    try {
      const s = await entry;
      return s.closing ? null : s.meta.id;
    } catch {
      return null;
    }
  }

  isOpen(id: string): boolean {
    const s = this.sessions.get(id);
    return s !== undefined && s.closing === null;
  }

  /** Closes and finalizes a session; waits for writes already under way. Null if it is not open. */
  close(id: string, reason: string): Promise<string | null> {
    const s = this.sessions.get(id);
    if (!s) return Promise.resolve(null);
    if (s.closing) return s.closing;
    if (this.byKey.get(s.meta.key) === s.keyEntry) this.byKey.delete(s.meta.key);
    s.closing = this.finish(s, reason);
    return s.closing;
  }

  private async finish(s: OpenSession, reason: string): Promise<string> {
    const id = s.meta.id;
    try {
      // The disk may have room by now: the pending short lines go in before the HAR is made.
      await this.writeUnrecorded(s).catch(() => {
        this.log.error({ session: id, unrecorded: s.unrecorded.size }, 'closing a session whose failed records could not be written either');
      });
      try {
        await s.writer.close();
      } catch (err) {
        // What reached the file is still finalized; a torn last line is skipped.
        this.log.error({ session: id, code: errCode(err) }, 'closing the session journal failed');
      }
      const r = await finalizeJournal(this.opts.sessionsDir, id, reason, this.finalizeOpts(this.iso(s.lastActivity)));
      this.log.info({ session: id, reason, entries: r.entryCount, badLines: r.badLines }, 'session closed');
      return r.harPath;
    } catch (err) {
      throw this.fail(`cannot finalize session ${id}; the journal is kept for recovery: ${errCode(err)}`, err, id);
    } finally {
      // Exchanges that will never be recorded here no longer count as in flight.
      for (const x of [...s.inFlight]) this.untrack(s, x);
      this.sessions.delete(id);
      this.opts.onClosed?.(id);
      if (this.sessions.size === 0) this.stopFlushing();
    }
  }

  /** Closes every open session (shutdown). Afterwards `ensure` refuses with SHUTTING_DOWN. */
  async closeAll(reason: string): Promise<void> {
    this.shuttingDown = true;
    this.stopIdleSweeper();
    await Promise.allSettled([...this.byKey.values()]);
    const results = await Promise.allSettled([...this.sessions.keys()].map((id) => this.close(id, reason)));
    for (const r of results) {
      if (r.status === 'rejected') this.log.error({ code: errCode(r.reason) }, 'a session could not be finalized at shutdown');
    }
    this.stopFlushing();
  }

  /** Closes sessions idle for idleTimeoutMs (with nothing in flight, unless stuck for 4x that). */
  async closeIdle(): Promise<string[]> {
    const now = this.now();
    const idle = [...this.sessions.values()].filter(
      (s) => !s.closing && isIdle({ now, lastActivity: s.lastActivity, inFlight: s.inFlight.size + s.unrecorded.size, idleTimeoutMs: this.opts.idleTimeoutMs }),
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
    const every = Math.min(Math.max(Math.floor(this.opts.idleTimeoutMs / 4), 250), 30_000);
    this.sweepTimer = setInterval(() => void this.closeIdle(), every);
    this.sweepTimer.unref();
  }

  stopIdleSweeper(): void {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = null;
  }

  /** fsync dirty journals (and refresh their summaries) at least once a second. */
  async flush(): Promise<void> {
    for (const s of this.sessions.values()) {
      if (s.closing) continue;
      try {
        await s.writer.syncIfDirty();
      } catch (err) {
        this.fail('cannot fsync the session journal', err, s.meta.id);
        void this.close(s.meta.id, 'recording failed').catch(() => undefined);
        continue;
      }
      if (s.summaryDirty && !s.closing) {
        s.summaryDirty = false;
        // Queued with the journal's writes so it cannot land after the close's final summary.
        await s.writer
          .run(() => writeSummary(this.opts.sessionsDir, this.summary(s, 'open', null, null), { sync: false }))
          .catch((err: unknown) => {
            this.log.warn({ session: s.meta.id, code: errCode(err) }, 'could not refresh the session summary');
          });
      }
    }
  }

  private startFlushing(): void {
    if (this.flushTimer) return;
    this.flushTimer = setInterval(() => void this.flush(), FLUSH_INTERVAL_MS);
    this.flushTimer.unref();
  }

  private stopFlushing(): void {
    if (this.flushTimer) clearInterval(this.flushTimer);
    this.flushTimer = null;
  }
}

// The journal lines of an exchange: its begin before the request goes upstream, its record before
// the response reaches the client, and what is written when a record fails. Every write that fails
// throws RECORDING_FAILED; a record that fails after its request was forwarded throws
// RECORDING_INCOMPLETE instead, and leaves a short "forwarded, response not recorded" line pending
// (unrecorded-exchange.ts): the session begins no new exchange until that line is in the journal.
// With a space reserve (space-reserve.ts) that line gets room even on a full disk, and then every
// session waits for the reserve to be taken back before it begins a new exchange.
// This is the hot path: a begin or record on a quiet proxy is one direct call down to write(2).
import { AirlockError } from '../../errors.js';
import type { Logger } from '../../log.js';
import { errCode } from '../../lib/file-io.js';
import { isSessionId, type JournalBeginLine, toJournalExchange, unrecordedExchange } from '../journal/index.js';
import { prepareSecrets, redactUrl } from '../../secrets/redact.js';
import type { Exchange, Secret } from '../../lib/exchange-types.js';
import type { SpaceReserve } from './space-reserve.js';
import { fail, type OpenSession, type StoreContext } from './store-context.js';

/** What SessionStore.begin writes of an exchange before its request goes upstream. */
export interface ExchangeBegin {
  readonly id: string;
  readonly startedDateTime: string;
  readonly method: string;
  readonly url: string;
  readonly note?: string;
}

export class ExchangeRecorder {
  private readonly ctx: StoreContext;
  private readonly now: () => number;
  private readonly log: Logger;
  private readonly reserve: SpaceReserve | undefined;
  private readonly maxDecodedBytes: number;
  /** Begun exchanges not yet recorded, over every session: none besides the caller's lets it write now (journal-writer.ts). */
  private inFlightTotal = 0;

  constructor(ctx: StoreContext) {
    this.ctx = ctx;
    this.now = ctx.now;
    this.log = ctx.log;
    this.reserve = ctx.opts.reserve;
    // A gzip body can expand a thousandfold: decoding gets a cap of its own.
    this.maxDecodedBytes = Math.max(ctx.opts.maxBodyBytes, Math.min(ctx.opts.maxBodyBytes * 8, 64 * 1024 * 1024), 1024 * 1024);
  }

  private live(sessionId: string): OpenSession {
    const s = this.ctx.sessions.get(sessionId);
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
    return fail(this.log, `cannot append to the session journal: ${errCode(err)}`, err, s.meta.id);
  }

  /**
   * A failed write is cut off the journal and the session stays open (the disk may get room
   * again, and the pending lines must land in this session). Only a journal that could not be cut
   * back is closed, so that the next request opens a fresh session.
   */
  private closeIfBroken(s: OpenSession): void {
    if (s.writer.failure !== null) this.ctx.closeFailed(s.meta.id);
  }

  /**
   * Writes the pending short lines of failed records, giving up the space reserve when the disk
   * has no room for them; RECORDING_FAILED while they cannot be written.
   */
  async writeUnrecorded(s: OpenSession): Promise<void> {
    let n: number;
    try {
      n = await s.unrecorded.writeTo(s.writer);
    } catch (err) {
      const released = s.writer.failure === null && (await this.reserve?.release().catch(() => false));
      if (released) this.log.warn({ session: s.meta.id }, 'the disk is full: the space reserve is given up to record what became of a forwarded request');
      try {
        if (!released) throw err;
        n = await s.unrecorded.writeTo(s.writer);
      } catch (err2) {
        this.closeIfBroken(s);
        throw fail(this.log, `an earlier exchange's outcome is not recorded yet: ${errCode(err2)}`, err2, s.meta.id);
      }
    }
    if (n > 0) {
      s.entryCount += n;
      s.summaryDirty = true;
    }
  }

  /** A reserve given up is taken back before any new exchange: the test that the disk has room again. */
  private async takeReserve(s: OpenSession): Promise<void> {
    const reserve = this.reserve;
    if (!reserve || reserve.held) return;
    try {
      await reserve.take();
    } catch (err) {
      throw fail(this.log, `the disk has no room to set recording space aside: ${errCode(err)}`, err, s.meta.id);
    }
  }

  /** See SessionStore.begin. */
  begin(sessionId: string, b: ExchangeBegin, secrets: readonly Secret[]): Promise<void> | undefined {
    let s: OpenSession;
    try {
      s = this.live(sessionId);
    } catch (err) {
      return Promise.reject(err);
    }
    // Fail closed in order: what became of an earlier exchange is on disk before a new one starts.
    // (Checked here first: with nothing pending and the reserve held, as on nearly every exchange,
    // neither step has anything to do, and each would cost its promises.)
    if (s.unrecorded.size > 0 || (this.reserve && !this.reserve.held)) return this.beginAfterPending(s, b, secrets);
    return this.writeBegin(s, b, secrets);
  }

  private async beginAfterPending(s: OpenSession, b: ExchangeBegin, secrets: readonly Secret[]): Promise<void> {
    if (s.unrecorded.size > 0) await this.writeUnrecorded(s);
    if (this.reserve && !this.reserve.held) await this.takeReserve(s);
    await this.writeBegin(s, b, secrets);
  }

  private writeBegin(s: OpenSession, b: ExchangeBegin, secrets: readonly Secret[]): Promise<void> | undefined {
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

  /** See SessionStore.record. */
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
    fail(this.log, `cannot record the exchange: ${errCode(err)}`, err, s.meta.id);
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

  /** Untracks every exchange of a session that is gone. */
  forget(s: OpenSession): void {
    for (const x of [...s.inFlight]) this.untrack(s, x);
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
}

// Opens the recording session of an identity's key: its journal (first line, chain origin), its
// summary and index entry; or finds the one already open, without awaiting when it is.
import { chmod, mkdir } from 'node:fs/promises';
import { AirlockError } from '../../errors.js';
import type { Identity } from '../../identity/types.js';
import { errCode, DIR_MODE } from '../../lib/file-io.js';
import { JournalWriter, newSessionId, PendingLines, sessionMetaOf, sessionPaths, writeSummary } from '../journal/index.js';
import { CHAIN_ALG, newChainOrigin } from '../integrity/index.js';
import { appendIndex } from '../index/index.js';
import { sessionKey as keyOf } from '../../identity/session-key.js';
import type { SessionMeta } from '../../lib/exchange-types.js';
import type { JournalFlusher } from './journal-flusher.js';
import { fail, iso, type OpenSession, type StoreContext, summaryOf } from './store-context.js';

export class SessionOpener {
  private readonly ctx: StoreContext;
  private readonly flusher: JournalFlusher;
  /** What each of byKey's promises resolved to, once it has: ensure() answers from it without awaiting. */
  private readonly opened = new WeakMap<Promise<OpenSession>, OpenSession>();
  private dirReady: Promise<void> | null = null;

  constructor(ctx: StoreContext, flusher: JournalFlusher) {
    this.ctx = ctx;
    this.flusher = flusher;
  }

  ensureDir(): Promise<void> {
    this.dirReady ??= (async () => {
      await mkdir(this.ctx.opts.sessionsDir, { recursive: true, mode: DIR_MODE });
      await chmod(this.ctx.opts.sessionsDir, DIR_MODE);
    })().catch((err: unknown) => {
      this.dirReady = null;
      throw err;
    });
    return this.dirReady;
  }

  /** See SessionStore.ensure. */
  ensure(identity: Identity, extra: { readonly replayOf?: string }): SessionMeta | Promise<SessionMeta> {
    const ctx = this.ctx;
    const key = keyOf(identity);
    const entry = ctx.byKey.get(key);
    const s = entry && this.opened.get(entry);
    // The same checks as the loop below makes after its await, on a session known to be open.
    if (s && !s.closing && !ctx.shuttingDown) {
      s.lastActivity = ctx.now();
      return s.meta;
    }
    return this.ensureAsync(identity, key, extra);
  }

  private async ensureAsync(identity: Identity, key: string, extra: { readonly replayOf?: string }): Promise<SessionMeta> {
    const ctx = this.ctx;
    for (;;) {
      if (ctx.shuttingDown) throw new AirlockError('SHUTTING_DOWN');
      let entry = ctx.byKey.get(key);
      if (!entry) {
        const p: Promise<OpenSession> = this.openSession(identity, key, () => p, extra.replayOf);
        entry = p;
        ctx.byKey.set(key, p);
        p.then(
          (opened) => this.opened.set(p, opened),
          () => {
            if (ctx.byKey.get(key) === p) ctx.byKey.delete(key);
          },
        );
      }
      const s = await entry;
      // A close may have started while we waited: it dropped the key, so loop and open anew.
      if (s.closing) continue;
      s.lastActivity = ctx.now();
      return s.meta;
    }
  }

  private async openSession(identity: Identity, key: string, self: () => Promise<OpenSession>, replayOf?: string): Promise<OpenSession> {
    const ctx = this.ctx;
    const openedAtMs = ctx.now();
    const base = sessionMetaOf(identity, key, newSessionId(openedAtMs), iso(openedAtMs));
    const meta: SessionMeta = replayOf !== undefined ? { ...base, replayOf } : base;
    let writer: JournalWriter;
    try {
      await this.ensureDir();
      const first = { type: 'session', ...meta, chain: { alg: CHAIN_ALG, origin: newChainOrigin() } };
      writer = await JournalWriter.create(sessionPaths(ctx.opts.sessionsDir, meta.id).journal, JSON.stringify(first), ctx.opts.openJournal);
    } catch (err) {
      throw fail(ctx.log, `cannot create a session journal: ${errCode(err)}`, err, meta.id);
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
    ctx.sessions.set(meta.id, s);
    try {
      await writeSummary(ctx.opts.sessionsDir, summaryOf(s, 'open', null, null), { sync: true });
      await appendIndex(ctx.opts.sessionsDir, summaryOf(s, 'open', null, null));
    } catch (err) {
      ctx.closeFailed(meta.id);
      throw fail(ctx.log, `cannot write the session summary: ${errCode(err)}`, err, meta.id);
    }
    this.flusher.start();
    ctx.log.info({ session: meta.id, issuer: meta.issuer, grant: meta.grant, sub: meta.sub }, 'session opened');
    return s;
  }

  /** See SessionStore.openIdForKey. */
  async openIdForKey(key: string): Promise<string | null> {
    const entry = this.ctx.byKey.get(key);
    if (!entry) return null;
    try {
      const s = await entry;
      return s.closing ? null : s.meta.id;
    } catch {
      return null;
    }
  }
}

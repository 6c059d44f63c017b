// What the parts of the session store (session-store.ts) share: its options, an open session,
// the table of open sessions, and the few helpers each part needs to say what failed.
import { AirlockError } from '../../errors.js';
import type { Logger } from '../../log.js';
import { errCode } from '../../lib/file-io.js';
import { DEFAULT_CREATOR_VERSION, type FinalizeOptions } from './finalize-journal.js';
import type { JournalWriter, OpenJournalFile, PendingLines, SessionSummary } from '../journal/index.js';
import type { SessionMeta } from '../../lib/exchange-types.js';
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

export interface OpenSession {
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

/** The state the parts share; made once by SessionStore. */
export interface StoreContext {
  readonly opts: SessionStoreOptions;
  readonly now: () => number;
  /** The store's child logger (component: recording). */
  readonly log: Logger;
  /** Open sessions by id; a closing one stays until its finish ends. */
  readonly sessions: Map<string, OpenSession>;
  /** The opening or open session of each identity key; a close drops its own entry. */
  readonly byKey: Map<string, Promise<OpenSession>>;
  /** Set by closeAll: no session opens any more. */
  shuttingDown: boolean;
  /** Closes a session whose recording failed, errors ignored (finish logs them). */
  readonly closeFailed: (id: string) => void;
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export function fail(log: Logger, reason: string, err: unknown, sessionId?: string): AirlockError {
  log.error({ session: sessionId, reason, code: errCode(err) }, 'recording failed');
  return new AirlockError('RECORDING_FAILED', reason, { cause: err });
}

export function summaryOf(s: OpenSession, status: 'open' | 'closed', closedAt: string | null, closeReason: string | null): SessionSummary {
  return { ...s.meta, status, closedAt, closeReason, entryCount: s.entryCount, lastActivityAt: iso(s.lastActivity) };
}

export function finalizeOptions(ctx: StoreContext, lastActivityAt?: string): FinalizeOptions {
  return {
    now: ctx.now,
    creatorVersion: ctx.opts.creatorVersion ?? DEFAULT_CREATOR_VERSION,
    ...(lastActivityAt !== undefined ? { lastActivityAt } : {}),
    ...(ctx.opts.seal ? { seal: ctx.opts.seal } : {}),
  };
}

// `airlock sessions prune`: removes the local files of old sessions. Never one that is open, or
// that the sink has not yet received.
import { rm, stat } from 'node:fs/promises';
import { sessionPaths, type SessionSummary } from '../recording/journal/index.js';
import { appendIndex } from '../recording/index/index.js';
import { listSessions } from '../recording/session/index.js';
import { pendingIds } from './outbox.js';

type PruneVerdict = { readonly prune: true } | { readonly prune: false; readonly reason: string };

/** Pure: may this session's files go? */
export function pruneVerdict(
  s: SessionSummary,
  ctx: { readonly cutoff: number; readonly sinkConfigured: boolean; readonly queued: boolean; readonly journalExists: boolean },
): PruneVerdict {
  if (s.status !== 'closed' || ctx.journalExists) return { prune: false, reason: 'open' };
  const closedAt = Date.parse(s.closedAt ?? '');
  if (!Number.isFinite(closedAt) || closedAt > ctx.cutoff) return { prune: false, reason: 'recent' };
  if (ctx.queued) return { prune: false, reason: 'not yet shipped (in the outbox)' };
  if (ctx.sinkConfigured && s.shippedAt === undefined) return { prune: false, reason: 'not yet shipped' };
  return { prune: true };
}

export interface PruneResult {
  readonly removed: string[];
  /** Old enough, but kept: id and why. */
  readonly kept: { readonly id: string; readonly reason: string }[];
}

export async function pruneSessions(o: {
  readonly stateDir: string;
  readonly sessionsDir: string;
  readonly retainMs: number;
  readonly sinkConfigured: boolean;
  readonly now: number;
  readonly dryRun: boolean;
}): Promise<PruneResult> {
  const cutoff = o.now - o.retainMs;
  const queued = new Set(await pendingIds(o.stateDir));
  const removed: string[] = [];
  const kept: PruneResult['kept'][number][] = [];
  for (const s of await listSessions(o.sessionsDir)) {
    const paths = sessionPaths(o.sessionsDir, s.id);
    const journalExists = await stat(paths.journal).then(
      () => true,
      () => false,
    );
    const v = pruneVerdict(s, { cutoff, sinkConfigured: o.sinkConfigured, queued: queued.has(s.id), journalExists });
    if (!v.prune) {
      if (v.reason !== 'recent') kept.push({ id: s.id, reason: v.reason });
      continue;
    }
    removed.push(s.id);
    if (o.dryRun) continue;
    // The sidecar last: until it is gone the session is still listed, so a crash here is redone.
    await rm(paths.har, { force: true });
    await rm(paths.sig, { force: true });
    await rm(paths.meta, { force: true });
    await appendIndex(o.sessionsDir, { id: s.id, dropped: true });
  }
  return { removed, kept };
}

// `<state>/outbox/<id>.json`: sessions whose HAR and signature still have to reach the sink.
// A file per session, written before the journal is removed (finalize's seal step), so an
// upload survives a crash or a restart; removed only once both objects are stored.
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { DIR_MODE, errCode, writeFileAtomic } from '../lib/file-io.js';
import { isSessionId } from '../recording/journal/index.js';

export interface OutboxItem {
  readonly id: string;
  readonly enqueuedAt: string;
  readonly attempts: number;
  /** Epoch ms before which no retry is made. */
  readonly nextAttemptAt: number;
  readonly lastError: string | null;
}

function outboxDir(stateDir: string): string {
  return join(stateDir, 'outbox');
}

function itemPath(stateDir: string, id: string): string {
  if (!isSessionId(id)) throw new Error('not a session id');
  return join(outboxDir(stateDir), `${id}.json`);
}

export async function writeItem(stateDir: string, item: OutboxItem): Promise<void> {
  await mkdir(outboxDir(stateDir), { recursive: true, mode: DIR_MODE });
  await writeFileAtomic(itemPath(stateDir, item.id), `${JSON.stringify(item)}\n`, { sync: true });
}

/** Queues a session; an item already queued keeps its attempts (recovery may seal twice). */
export async function enqueue(stateDir: string, id: string, now: number): Promise<void> {
  if (await readItem(stateDir, id)) return;
  await writeItem(stateDir, { id, enqueuedAt: new Date(now).toISOString(), attempts: 0, nextAttemptAt: 0, lastError: null });
}

export async function readItem(stateDir: string, id: string): Promise<OutboxItem | null> {
  try {
    const v = JSON.parse(await readFile(itemPath(stateDir, id), 'utf8')) as Partial<OutboxItem>;
    if (v.id !== id) return null;
    return {
      id,
      enqueuedAt: typeof v.enqueuedAt === 'string' ? v.enqueuedAt : new Date(0).toISOString(),
      attempts: typeof v.attempts === 'number' ? v.attempts : 0,
      nextAttemptAt: typeof v.nextAttemptAt === 'number' ? v.nextAttemptAt : 0,
      lastError: typeof v.lastError === 'string' ? v.lastError : null,
    };
  } catch (err) {
    // A torn or garbage item is still a pending upload: retry it from scratch.
    if (errCode(err) === 'ENOENT') return null;
    return { id, enqueuedAt: new Date(0).toISOString(), attempts: 0, nextAttemptAt: 0, lastError: 'unreadable outbox item' };
  }
}

/** Ids waiting, oldest session first. */
export async function pendingIds(stateDir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(outboxDir(stateDir));
  } catch (err) {
    if (errCode(err) === 'ENOENT') return [];
    throw err;
  }
  return names
    .filter((n) => n.endsWith('.json'))
    .map((n) => n.slice(0, -'.json'.length))
    .filter(isSessionId)
    .sort();
}

export async function removeItem(stateDir: string, id: string): Promise<void> {
  await rm(itemPath(stateDir, id), { force: true });
}

/**
 * Exponential backoff from 1 s to 5 min, with jitter so that many runners do not retry in step.
 * Not p-retry: the attempt count and next time live in the outbox item on disk and outlast a restart.
 */
export function backoffMs(attempts: number, random: () => number = Math.random): number {
  const base = Math.min(300_000, 1000 * 2 ** Math.min(attempts, 20));
  return Math.round(base * (0.5 + random() / 2));
}

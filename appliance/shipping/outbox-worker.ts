// Empties the outbox in the background: one session at a time, each failure rescheduled with
// backoff. It never touches the proxy's path: finalize only writes the small outbox item.
import type { Logger } from '../log.js';
import { errCode } from '../lib/file-io.js';
import { markShipped } from './mark-shipped.js';
import { backoffMs, pendingIds, readItem, removeItem, writeItem } from './outbox.js';
import type { Upload } from './s3-upload.js';

export interface OutboxWorkerOptions {
  readonly stateDir: string;
  readonly sessionsDir: string;
  readonly upload: Upload;
  readonly log: Logger;
  readonly now?: () => number;
  readonly pollMs?: number;
  readonly random?: () => number;
}

function reasonOf(err: unknown): string {
  // The SDK's error name and HTTP status say what went wrong; its message can be long, and no
  // credential is ever in either.
  const e = err as { name?: unknown; $metadata?: { httpStatusCode?: unknown } };
  const status = e.$metadata?.httpStatusCode;
  return `${typeof e.name === 'string' ? e.name : errCode(err)}${typeof status === 'number' ? ` (HTTP ${status})` : ''}`.slice(0, 200);
}

export class OutboxWorker {
  private readonly o: OutboxWorkerOptions;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<number> | null = null;
  private ignoreBackoff = false;
  private stopped = false;

  constructor(opts: OutboxWorkerOptions) {
    this.o = opts;
    this.now = opts.now ?? Date.now;
  }

  start(): void {
    this.stopped = false;
    if (this.timer) return;
    this.timer = setInterval(() => void this.tick(), this.o.pollMs ?? 1000);
    this.timer.unref();
    void this.tick();
  }

  /** Retries everything now, ignoring backoff (for `airlock sessions flush`). */
  kick(): void {
    this.ignoreBackoff = true;
    void this.tick();
  }

  /** One pass over the due items; resolves with how many are still pending. */
  tick(): Promise<number> {
    if (this.running) return this.running;
    this.running = this.pass().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async pass(): Promise<number> {
    const force = this.ignoreBackoff;
    this.ignoreBackoff = false;
    let ids: string[];
    try {
      ids = await pendingIds(this.o.stateDir);
    } catch (err) {
      this.o.log.error({ code: errCode(err) }, 'cannot read the outbox');
      return -1;
    }
    let left = 0;
    for (const id of ids) {
      if (this.stopped) return ids.length;
      const item = await readItem(this.o.stateDir, id);
      if (!item) continue;
      if (!force && item.nextAttemptAt > this.now()) {
        left++;
        continue;
      }
      try {
        await this.o.upload(id);
        await markShipped(this.o.sessionsDir, id, new Date(this.now()).toISOString());
        await removeItem(this.o.stateDir, id);
        this.o.log.info({ session: id, attempts: item.attempts + 1 }, 'session shipped');
      } catch (err) {
        left++;
        const attempts = item.attempts + 1;
        const next = this.now() + backoffMs(attempts, this.o.random);
        const lastError = reasonOf(err);
        this.o.log.warn({ session: id, attempts, retryAt: new Date(next).toISOString(), reason: lastError }, 'session upload failed; will retry');
        await writeItem(this.o.stateDir, { ...item, attempts, nextAttemptAt: next, lastError }).catch(() => undefined);
      }
    }
    return left;
  }

  /** Stops the timer and waits (at most graceMs) for an upload under way. */
  async stop(graceMs = 5_000): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.running) await Promise.race([this.running.catch(() => 0), new Promise((r) => setTimeout(r, graceMs).unref())]);
  }
}

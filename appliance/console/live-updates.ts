// Server-sent events for the console: every connected page gets the waiting holds and the
// recent decisions on every bus event (debounced) and every few seconds; capped in count.
import type http from 'node:http';
import type { Logger } from '../log.js';
import type { RedisBus } from '../approvals/redis-bus.js';

const MAX_CLIENTS = 200;
const REFRESH_MS = 5_000;

export class LiveUpdates {
  private readonly clients = new Map<http.ServerResponse, number>();
  private timer: NodeJS.Timeout | undefined;
  private pending: NodeJS.Timeout | undefined;
  private last = '';

  constructor(
    private readonly bus: RedisBus,
    private readonly now: () => number,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    await this.bus.subscribe(() => this.kick());
    this.timer = setInterval(() => void this.push(true), REFRESH_MS);
    this.timer.unref();
  }

  add(res: http.ServerResponse, expiresAt: number): void {
    if (this.clients.size >= MAX_CLIENTS) {
      res.end('retry: 10000\n\n');
      return;
    }
    this.clients.set(res, expiresAt);
    res.on('close', () => this.clients.delete(res));
    res.write('retry: 2000\n\n');
    void this.snapshot().then((s) => s && res.write(`event: update\ndata: ${s}\n\n`));
  }

  /** Soon, once: many events in a burst make one update. */
  kick(): void {
    this.pending ??= setTimeout(() => {
      this.pending = undefined;
      void this.push(false);
    }, 100);
  }

  stop(): void {
    clearInterval(this.timer);
    clearTimeout(this.pending);
    for (const res of this.clients.keys()) res.end();
    this.clients.clear();
  }

  private async snapshot(): Promise<string | null> {
    try {
      const [pending, recent] = await Promise.all([this.bus.pending(this.now()), this.bus.recent()]);
      return JSON.stringify({ pending, recent: recent.slice(0, 20) });
    } catch (err) {
      this.log.warn({ err: { message: (err as Error).message } }, 'console: the approval bus cannot be read');
      return null;
    }
  }

  private async push(periodic: boolean): Promise<void> {
    if (this.clients.size === 0) return;
    const s = await this.snapshot();
    const t = this.now();
    for (const [res, exp] of this.clients) {
      // A session that ended stops getting updates; the page's EventSource then gets 401s.
      if (exp <= t) res.end();
    }
    if (s === null || (periodic && s === this.last)) {
      for (const res of this.clients.keys()) res.write(': keep-alive\n\n');
      return;
    }
    this.last = s;
    for (const res of this.clients.keys()) res.write(`event: update\ndata: ${s}\n\n`);
  }
}

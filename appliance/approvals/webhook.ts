// Tells a chat channel (Slack-compatible `text`) and any JSON consumer about holds and decisions.
// Fire and forget: retried with backoff, bounded in count and time, never awaited by the proxy.
import type { Logger } from '../log.js';
import type { HeldRequest, Outcome } from './approval-queue.js';
import { slackHoldMessage } from './slack-message.js';

export type Fetcher = (url: string, init: { method: string; headers: Record<string, string>; body: string; signal: AbortSignal }) => Promise<{ status: number }>;

export interface WebhookOptions {
  readonly url: string;
  readonly log: Logger;
  /** slack: holds become interactive messages with Approve/Deny buttons. */
  readonly format?: 'text' | 'slack';
  /** approvals.timeout in seconds, shown in the Slack message. */
  readonly timeoutSeconds?: number;
  readonly fetch?: Fetcher;
  /** Delays before each retry, ms. */
  readonly backoffMs?: readonly number[];
  readonly attemptTimeoutMs?: number;
}

/** Deliveries under way at once; past this, new events are dropped (and logged), not queued. */
const MAX_IN_FLIGHT = 100;

export function webhookText(event: string, id: string, r: HeldRequest, o?: Outcome): string {
  const what = `${r.method} ${r.url}`;
  switch (event) {
    case 'held':
      return `:raised_hand: Airlock is holding ${what} from ${r.sub} (grant ${r.grant}) for approval. Decide with \`airlock approvals approve ${id}\` or \`airlock approvals deny ${id}\`.`;
    case 'approved':
      return `:white_check_mark: ${what} (hold ${id}) was approved by ${o?.kind === 'approved' ? o.approval.by : '?'}.`;
    case 'denied':
      return `:no_entry: ${what} (hold ${id}) was denied by ${o?.kind === 'denied' ? o.approval.by : '?'}.`;
    case 'timeout':
      return `:hourglass: ${what} (hold ${id}) timed out without a decision and was refused.`;
    default:
      return `:warning: ${what} (hold ${id}) was dropped before a decision (${o?.kind === 'aborted' ? o.why : event}).`;
  }
}

export class Webhook {
  private inFlight = 0;
  private readonly fetch: Fetcher;
  private readonly backoff: readonly number[];
  private readonly attemptTimeoutMs: number;

  constructor(private readonly opts: WebhookOptions) {
    this.fetch = opts.fetch ?? ((url, init) => globalThis.fetch(url, { ...init, redirect: 'manual' }));
    this.backoff = opts.backoffMs ?? [500, 2_000, 8_000, 30_000];
    this.attemptTimeoutMs = opts.attemptTimeoutMs ?? 5_000;
  }

  send(event: string, id: string, r: HeldRequest, o?: Outcome): void {
    if (this.inFlight >= MAX_IN_FLIGHT) {
      this.opts.log.warn({ hold: id, event }, 'approval webhook backlog full: event dropped');
      return;
    }
    const text = webhookText(event, id, r, o);
    const slack = this.opts.format === 'slack' && event === 'held' ? slackHoldMessage(id, r, text, this.opts.timeoutSeconds) : {};
    const payload = {
      text,
      ...slack,
      event,
      hold: {
        id,
        session: r.session,
        sub: r.sub,
        grant: r.grant,
        method: r.method,
        url: r.url,
        rule: r.rule,
        ...(o?.kind === 'approved' || o?.kind === 'denied' ? { decidedBy: o.approval.by, decidedAt: o.approval.at, note: o.approval.note ?? null } : {}),
      },
    };
    this.inFlight++;
    void this.deliver(JSON.stringify(payload), event, id).finally(() => this.inFlight--);
  }

  /** Resolves when every delivery under way has finished (tests, shutdown). */
  get pending(): number {
    return this.inFlight;
  }

  private async deliver(body: string, event: string, id: string): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      let why: string;
      try {
        const r = await this.fetch(this.opts.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
          signal: AbortSignal.timeout(this.attemptTimeoutMs),
        });
        if (r.status >= 200 && r.status < 300) return;
        why = `status ${r.status}`;
      } catch (err) {
        const e = err as { cause?: { code?: unknown }; name?: unknown };
        why = typeof e.cause?.code === 'string' ? e.cause.code : String(e.name ?? 'error');
      }
      const delay = this.backoff[attempt];
      if (delay === undefined) {
        this.opts.log.error({ hold: id, event, attempts: attempt + 1, why }, 'approval webhook gave up');
        return;
      }
      this.opts.log.warn({ hold: id, event, attempt: attempt + 1, why }, 'approval webhook failed: will retry');
      await new Promise<void>((r) => setTimeout(r, delay).unref());
    }
  }
}

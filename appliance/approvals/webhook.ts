// Tells a chat channel (Slack-compatible `text`) and any JSON consumer about holds and decisions.
// Fire and forget: retried with backoff, bounded in count and time, never awaited by the proxy.
import pRetry from 'p-retry';
import { directRequest } from '../lib/direct-request.js';
import type { Logger } from '../log.js';
import type { HeldRequest, Outcome } from './approval-queue.js';
import { slackHoldMessage } from './slack-message.js';

export interface WebhookOptions {
  readonly url: string;
  readonly log: Logger;
  /** slack: holds become interactive messages with Approve/Deny buttons. */
  readonly format?: 'text' | 'slack';
  /** approvals.timeout in seconds, shown in the Slack message. */
  readonly timeoutSeconds?: number;
  readonly attemptTimeoutMs?: number;
}

/** Deliveries under way at once; past this, new events are dropped (and logged), not queued. */
const MAX_IN_FLIGHT = 100;
/** Retries after the first attempt, 0.5 s apart then x4 each time, capped: 0.5, 2, 8, 30 s. */
const BACKOFF = { retries: 4, minTimeout: 500, factor: 4, maxTimeout: 30_000, randomize: false, unref: true } as const;

function webhookText(event: string, id: string, r: HeldRequest, o?: Outcome): string {
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
  private readonly attemptTimeoutMs: number;

  constructor(private readonly opts: WebhookOptions) {
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
    const attempt = async (): Promise<void> => {
      // Direct (no env proxy), redirects not followed; the receiver's answer body is not needed.
      const r = await directRequest(this.opts.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        timeoutMs: this.attemptTimeoutMs,
        maxBytes: 65_536,
      });
      if (r.status < 200 || r.status > 299) throw new Error(`status ${r.status}`);
    };
    const why = (err: unknown): string => {
      const e = err as { code?: unknown; kind?: unknown; message?: unknown };
      // eslint-disable-next-line @typescript-eslint/no-base-to-string -- a thrown value's message or kind, whatever it is
      return typeof e.code === 'string' ? e.code : e.kind === 'network' || e.kind === undefined ? String(e.message ?? 'error') : String(e.kind);
    };
    try {
      await pRetry(attempt, {
        ...BACKOFF,
        onFailedAttempt: ({ error, attemptNumber, retriesLeft }) => {
          if (retriesLeft > 0) this.opts.log.warn({ hold: id, event, attempt: attemptNumber, why: why(error) }, 'approval webhook failed: will retry');
        },
      });
    } catch (err) {
      this.opts.log.error({ hold: id, event, attempts: BACKOFF.retries + 1, why: why(err) }, 'approval webhook gave up');
    }
  }
}

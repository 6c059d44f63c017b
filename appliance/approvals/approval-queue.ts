// Requests held for a human decision. In memory only: a restart loses every pending hold (the
// journal's `held` begin line makes the HAR say so). Timers are the only clock-driven part.
import { randomBytes } from 'node:crypto';

export interface HeldRequest {
  readonly session: string;
  readonly sub: string;
  readonly grant: string;
  readonly method: string;
  /** Redacted. */
  readonly url: string;
  /** Redacted, at most a few hundred characters. */
  readonly bodyPreview: string;
  readonly rule: unknown;
  /** The job's identifying claims (identity/attribution.ts): what an approver reads to know who asks. */
  readonly claims?: Readonly<Record<string, string>>;
  /** The destination host, shown apart from the URL. */
  readonly host?: string;
}

export interface Approval {
  readonly by: string;
  readonly at: string;
  readonly note?: string;
  /** Where the decision was made: console, slack, cli (through the bus) or socket (this VM). */
  readonly channel?: string;
}

export type Outcome =
  | { readonly kind: 'approved'; readonly approval: Approval }
  | { readonly kind: 'denied'; readonly approval: Approval; readonly reason: string | undefined }
  | { readonly kind: 'timeout'; readonly at: string }
  | { readonly kind: 'aborted'; readonly why: string };

export interface PendingView extends HeldRequest {
  readonly id: string;
  readonly heldAt: string;
  readonly ageSeconds: number;
}

interface Entry {
  readonly id: string;
  readonly req: HeldRequest;
  readonly heldAtMs: number;
  readonly settle: (o: Outcome) => void;
  readonly timer: NodeJS.Timeout;
}

export type DecideResult =
  | { readonly ok: true; readonly outcome: Outcome; readonly held: HeldRequest & { id: string } }
  /** not-found: no such hold; expired: it timed out first; decided: someone else decided first. */
  | { readonly ok: false; readonly why?: 'not-found' | 'expired' | 'decided'; readonly detail?: string };

/** What the pipeline and the control socket need of approvals: the local queue, or the Redis bus. */
export interface Approvals {
  hold(req: HeldRequest): { id: string; outcome: Promise<Outcome> };
  list(): PendingView[] | Promise<PendingView[]>;
  approve(id: string, by: string, note?: string, channel?: string): DecideResult | Promise<DecideResult>;
  deny(id: string, by: string, reason?: string, channel?: string): DecideResult | Promise<DecideResult>;
  abort(id: string, why: string): void;
  abortAll(why: string): void;
  close?(): Promise<void>;
}

export class ApprovalQueue implements Approvals {
  private readonly pending = new Map<string, Entry>();

  constructor(
    private readonly timeoutMs: number,
    private readonly now: () => number = Date.now,
    /** Told about every hold and every outcome (the webhook and the log); must not throw. */
    private readonly notify: (event: 'held' | Outcome['kind'], id: string, req: HeldRequest, outcome?: Outcome) => void = () => undefined,
  ) {}

  /** Holds until a decision, the timeout or abort(); `id` is shown to the operator. */
  hold(req: HeldRequest): { id: string; outcome: Promise<Outcome> } {
    const id = randomBytes(6).toString('hex');
    let settle!: (o: Outcome) => void;
    const outcome = new Promise<Outcome>((resolve) => (settle = resolve));
    const timer = setTimeout(() => this.finish(id, { kind: 'timeout', at: new Date(this.now()).toISOString() }), this.timeoutMs);
    timer.unref();
    this.pending.set(id, { id, req, heldAtMs: this.now(), settle, timer });
    this.notify('held', id, req);
    return { id, outcome };
  }

  list(): PendingView[] {
    const t = this.now();
    return [...this.pending.values()].map((e) => ({
      id: e.id,
      ...e.req,
      heldAt: new Date(e.heldAtMs).toISOString(),
      ageSeconds: Math.max(0, Math.round((t - e.heldAtMs) / 1000)),
    }));
  }

  approve(id: string, by: string, note?: string, channel = 'socket'): DecideResult {
    return this.finishResult(id, { kind: 'approved', approval: this.approval(by, note, channel) });
  }

  deny(id: string, by: string, reason?: string, channel = 'socket'): DecideResult {
    return this.finishResult(id, { kind: 'denied', approval: this.approval(by, reason, channel), reason });
  }

  /** The client went away, or the server is stopping. */
  abort(id: string, why: string): void {
    this.finish(id, { kind: 'aborted', why });
  }

  abortAll(why: string): void {
    for (const id of [...this.pending.keys()]) this.abort(id, why);
  }

  get size(): number {
    return this.pending.size;
  }

  private approval(by: string, note: string | undefined, channel: string): Approval {
    return { by, at: new Date(this.now()).toISOString(), ...(note ? { note } : {}), channel };
  }

  private finishResult(id: string, o: Outcome): DecideResult {
    const e = this.pending.get(id);
    if (!e) return { ok: false, why: 'not-found' };
    this.finish(id, o);
    return { ok: true, outcome: o, held: { id, ...e.req } };
  }

  private finish(id: string, o: Outcome): void {
    const e = this.pending.get(id);
    if (!e) return;
    this.pending.delete(id);
    clearTimeout(e.timer);
    e.settle(o);
    this.notify(o.kind, id, e.req, o);
  }
}

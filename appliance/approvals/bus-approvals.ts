// A runner's approvals on the bus: every hold is published to Redis for the console, chat and
// the CLI; decisions are read back (a poll every POLL_MS, woken early by pub/sub). The runner's
// own timer is the authority on time: at the deadline it writes `timeout` (first writer wins, so
// a decision that got in first still counts), and with Redis away it simply denies: fail closed.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from '../log.js';
import type { Approval, Approvals, DecideResult, HeldRequest, Outcome, PendingView } from './approval-queue.js';
import type { BusDecision, BusHold, RedisBus } from './redis-bus.js';

const POLL_MS = 250;

interface Entry {
  readonly hold: BusHold;
  readonly settle: (o: Outcome) => void;
  readonly timer: NodeJS.Timeout;
  published: boolean;
}

type Notify = (event: 'held' | Outcome['kind'], id: string, req: HeldRequest, outcome?: Outcome) => void;

/** A bus decision as the pipeline's outcome. */
function outcomeOf(d: BusDecision): Outcome {
  const approval: Approval = { by: d.by, at: d.at, ...(d.note ? { note: d.note } : {}), ...(d.channel ? { channel: d.channel } : {}) };
  if (d.kind === 'approved') return { kind: 'approved', approval };
  if (d.kind === 'denied') return { kind: 'denied', approval, reason: d.note };
  if (d.kind === 'aborted') return { kind: 'aborted', why: d.note ?? 'aborted' };
  return { kind: 'timeout', at: d.at };
}

/** A bus refusal as the control socket's DecideResult. */
export function refusalOf(why: 'not-found' | 'expired' | 'decided', d: BusDecision | undefined): DecideResult {
  if (why === 'decided' && d?.kind === 'timeout') return { ok: false, why: 'expired', detail: `it timed out at ${d.at}` };
  if (why === 'decided' && d) return { ok: false, why, detail: `${d.kind} by ${d.by} (${d.channel ?? '?'}) at ${d.at}` };
  return { ok: false, why };
}

export class BusApprovals implements Approvals {
  private readonly held = new Map<string, Entry>();
  private readonly poller: NodeJS.Timeout;
  private polling = false;
  readonly runner = `${hostname()}/${process.pid}`;

  constructor(
    private readonly bus: RedisBus,
    private readonly timeoutMs: number,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
    private readonly notify: Notify = () => undefined,
  ) {
    this.poller = setInterval(() => void this.poll(), POLL_MS);
    this.poller.unref();
    // After a reconnect, make sure Redis (maybe restarted without its data) has every hold.
    bus.redis.on('ready', () => {
      for (const e of this.held.values()) e.published = false;
    });
    void bus.subscribe(() => void this.poll());
  }

  hold(req: HeldRequest): { id: string; outcome: Promise<Outcome> } {
    const id = randomBytes(6).toString('hex');
    // Whole milliseconds: Redis expiries (PXAT) take integers.
    const at = Math.floor(this.now());
    const hold: BusHold = { ...req, id, runner: this.runner, heldAt: new Date(at).toISOString(), deadline: at + this.timeoutMs };
    let settle!: (o: Outcome) => void;
    const outcome = new Promise<Outcome>((resolve) => (settle = resolve));
    const timer = setTimeout(() => void this.expire(id), this.timeoutMs);
    timer.unref();
    const e: Entry = { hold, settle, timer, published: false };
    this.held.set(id, e);
    this.notify('held', id, req);
    void this.publish(e);
    return { id, outcome };
  }

  async list(): Promise<PendingView[]> {
    const t = this.now();
    const view = (h: BusHold): PendingView => ({ ...h, ageSeconds: Math.max(0, Math.round((t - Date.parse(h.heldAt)) / 1000)) });
    try {
      return (await this.bus.pending(t)).map(view);
    } catch {
      // The bus is away: this runner's own holds are all it knows.
      return [...this.held.values()].map((e) => view(e.hold)).reverse();
    }
  }

  approve(id: string, by: string, note?: string, channel = 'cli'): Promise<DecideResult> {
    return this.decide(id, { kind: 'approved', by, at: new Date(this.now()).toISOString(), ...(note ? { note } : {}), channel });
  }

  deny(id: string, by: string, reason?: string, channel = 'cli'): Promise<DecideResult> {
    return this.decide(id, { kind: 'denied', by, at: new Date(this.now()).toISOString(), ...(reason ? { note: reason } : {}), channel });
  }

  abort(id: string, why: string): void {
    if (!this.held.has(id)) return;
    this.finish(id, { kind: 'aborted', why });
    // Off the console's list; a failure only leaves it there until its deadline.
    void this.bus.decide(id, { kind: 'aborted', by: 'airlock', at: new Date(this.now()).toISOString(), note: why }).catch(() => undefined);
  }

  abortAll(why: string): void {
    for (const id of [...this.held.keys()]) this.abort(id, why);
  }

  get size(): number {
    return this.held.size;
  }

  async close(): Promise<void> {
    clearInterval(this.poller);
    await this.bus.close();
  }

  private async decide(id: string, d: BusDecision): Promise<DecideResult> {
    const r = await this.bus.decide(id, d);
    if (!r.ok) return refusalOf(r.why, r.decision);
    const o = outcomeOf(r.decision);
    if (this.held.has(id)) this.finish(id, o);
    return { ok: true, outcome: o, held: r.hold };
  }

  private async publish(e: Entry): Promise<void> {
    try {
      await this.bus.publish(e.hold);
      e.published = true;
    } catch (err) {
      this.log.warn({ hold: e.hold.id, err: { message: (err as Error).message } }, 'approval bus unavailable: the hold waits for the bus or its timeout');
    }
  }

  private async poll(): Promise<void> {
    if (this.polling || this.held.size === 0) return;
    this.polling = true;
    try {
      for (const e of this.held.values()) if (!e.published) await this.publish(e);
      const decided = await this.bus.decisions([...this.held.keys()]);
      for (const [id, d] of decided) if (this.held.has(id)) this.finish(id, outcomeOf(d));
    } catch {
      // The bus is away: holds keep waiting until it is back or their timers fire.
    } finally {
      this.polling = false;
    }
  }

  /** The deadline: write `timeout` first-writer-wins; whatever won is the outcome; no bus, a timeout. */
  private async expire(id: string): Promise<void> {
    const at = new Date(this.now()).toISOString();
    let o: Outcome = { kind: 'timeout', at };
    try {
      const r = await this.bus.decide(id, { kind: 'timeout', by: 'airlock', at });
      if (!r.ok && r.why === 'decided' && r.decision && r.decision.kind !== 'aborted') o = outcomeOf(r.decision);
    } catch {
      this.log.warn({ hold: id }, "approval bus unavailable at the hold's deadline: refused (fail closed)");
    }
    this.finish(id, o);
  }

  private finish(id: string, o: Outcome): void {
    const e = this.held.get(id);
    if (!e) return;
    this.held.delete(id);
    clearTimeout(e.timer);
    e.settle(o);
    this.notify(o.kind, id, e.hold, o);
  }
}

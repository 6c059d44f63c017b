// The approval bus: holds from every runner, and decisions from every approver, in one Redis.
// Keys, not pub/sub alone, so that a Redis restart (with its append-only file) or a missed
// message loses nothing: a hold is a key with a TTL past its deadline, the waiting list is a
// sorted set, a decision is a key written once by a Lua script (first writer wins, atomically,
// and never after the hold's deadline by Redis's clock). Pub/sub only wakes readers early.
import { Redis, type RedisOptions } from 'ioredis';
import type { Approval, HeldRequest } from './approval-queue.js';

/** What every approver sees of a hold. */
export interface BusHold extends HeldRequest {
  readonly id: string;
  /** The runner holding it (host name and process). */
  readonly runner: string;
  readonly heldAt: string;
  /** Epoch ms; a decision after it is refused (HOLD_EXPIRED). */
  readonly deadline: number;
}

export interface BusDecision extends Approval {
  readonly kind: 'approved' | 'denied' | 'timeout' | 'aborted';
}

export type BusDecideResult =
  | { readonly ok: true; readonly hold: BusHold; readonly decision: BusDecision }
  | { readonly ok: false; readonly why: 'not-found' | 'expired' | 'decided'; readonly hold?: BusHold; readonly decision?: BusDecision };

export interface BusOptions {
  readonly url: string;
  readonly keyPrefix: string;
  readonly password?: string;
  readonly tls?: RedisOptions['tls'];
}

/** Hold and decision keys outlive the deadline this long, so a late decision is told "timed out". */
const RETAIN_MS = 15 * 60_000;
const RECENT = 50;

// KEYS: hold, decision, pending, recent; ARGV: id, decision JSON, 1 when the runner times out.
const DECIDE = `
local d = redis.call('GET', KEYS[2])
if d then return {'decided', redis.call('GET', KEYS[1]) or '', d} end
local h = redis.call('GET', KEYS[1])
if not h then return {'not-found', '', ''} end
local hold = cjson.decode(h)
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if ARGV[3] ~= '1' and now >= tonumber(hold.deadline) then return {'expired', h, ''} end
redis.call('SET', KEYS[2], ARGV[2], 'PXAT', math.max(now, tonumber(hold.deadline)) + ${RETAIN_MS})
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('LPUSH', KEYS[4], '{"hold":' .. h .. ',"decision":' .. ARGV[2] .. '}')
redis.call('LTRIM', KEYS[4], 0, ${RECENT - 1})
return {'ok', h, ARGV[2]}
`;

// KEYS: hold, pending, decision; ARGV: hold JSON, expiry (epoch ms), score, id, channel, message.
const PUBLISH = `
if redis.call('EXISTS', KEYS[3]) == 1 then return 0 end
if redis.call('SET', KEYS[1], ARGV[1], 'PXAT', ARGV[2], 'NX') then
  redis.call('ZADD', KEYS[2], ARGV[3], ARGV[4])
  redis.call('PUBLISH', ARGV[5], ARGV[6])
  return 1
end
return 0
`;

// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- T names the shape read back; callers check it
function parse<T>(text: string | null | undefined): T | undefined {
  if (!text) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}

export class RedisBus {
  readonly redis: Redis;
  private sub: Redis | undefined;

  constructor(private readonly opts: BusOptions) {
    this.redis = new Redis(opts.url, this.options());
    // Errors surface on the commands that fail; the connection's own errors would only repeat them.
    this.redis.on('error', () => undefined);
  }

  private options() {
    return {
      ...(this.opts.password !== undefined ? { password: this.opts.password } : {}),
      ...(this.opts.tls !== undefined ? { tls: this.opts.tls } : {}),
      // Fail fast while Redis is away: a hold waits on its own timer, never on a queued command.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: 2_000,
      commandTimeout: 2_000,
      retryStrategy: () => 500,
    };
  }

  /** Resolves once connected; rejects after `ms` (one-shot callers: the CLI). */
  ready(ms = 3_000): Promise<void> {
    if (this.redis.status === 'ready') return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.redis.off('ready', onReady);
        reject(new Error(`no connection to ${new URL(this.opts.url).host} within ${ms} ms`));
      }, ms);
      const onReady = (): void => {
        clearTimeout(timer);
        resolve();
      };
      this.redis.once('ready', onReady);
    });
  }

  private key(...parts: string[]): string {
    return `${this.opts.keyPrefix}${parts.join(':')}`;
  }

  get channel(): string {
    return this.key('events');
  }

  /** Publishes a hold; again after a Redis restart that lost it (a hold already there is kept as is). */
  async publish(h: BusHold): Promise<void> {
    await this.redis.eval(
      PUBLISH,
      3,
      this.key('hold', h.id),
      this.key('pending'),
      this.key('decision', h.id),
      JSON.stringify(h),
      String(h.deadline + RETAIN_MS),
      String(Date.parse(h.heldAt)),
      h.id,
      this.channel,
      JSON.stringify({ event: 'held', id: h.id }),
    );
  }

  /** Whether the hold key is there (a Redis that lost its data needs the runner to publish again). */
  async has(id: string): Promise<boolean> {
    return (await this.redis.exists(this.key('hold', id))) === 1;
  }

  /** Decisions for these holds, where one was written. */
  async decisions(ids: readonly string[]): Promise<Map<string, BusDecision>> {
    const out = new Map<string, BusDecision>();
    if (ids.length === 0) return out;
    const values = await this.redis.mget(ids.map((id) => this.key('decision', id)));
    values.forEach((v, i) => {
      const d = parse<BusDecision>(v);
      if (d && ids[i] !== undefined) out.set(ids[i], d);
    });
    return out;
  }

  /** First writer wins; `timeout` is the runner's own, written even past the deadline. */
  async decide(id: string, d: BusDecision): Promise<BusDecideResult> {
    if (!/^[0-9a-f]{12}$/.test(id)) return { ok: false, why: 'not-found' };
    const r = (await this.redis.eval(
      DECIDE,
      4,
      this.key('hold', id),
      this.key('decision', id),
      this.key('pending'),
      this.key('recent'),
      id,
      JSON.stringify(d),
      d.kind === 'timeout' || d.kind === 'aborted' ? '1' : '0',
    )) as [string, string, string];
    const hold = parse<BusHold>(r[1]);
    const decision = parse<BusDecision>(r[2]);
    await this.redis.publish(this.channel, JSON.stringify({ event: 'decided', id })).catch(() => undefined);
    if (r[0] === 'ok' && hold && decision) return { ok: true, hold, decision };
    const why = r[0] === 'decided' || r[0] === 'expired' ? r[0] : 'not-found';
    return { ok: false, why, ...(hold ? { hold } : {}), ...(decision ? { decision } : {}) };
  }

  /** Waiting holds, newest first; entries whose hold is gone or past its deadline are dropped. */
  async pending(nowMs: number): Promise<BusHold[]> {
    const ids = await this.redis.zrevrange(this.key('pending'), 0, 499);
    if (ids.length === 0) return [];
    const values = await this.redis.mget(ids.map((id) => this.key('hold', id)));
    const out: BusHold[] = [];
    const stale: string[] = [];
    values.forEach((v, i) => {
      const h = parse<BusHold>(v);
      if (h && h.deadline > nowMs) out.push(h);
      else if (!h || h.deadline + RETAIN_MS < nowMs) stale.push(ids[i]!);
    });
    if (stale.length > 0) await this.redis.zrem(this.key('pending'), ...stale);
    return out;
  }

  /** The latest decisions, newest first. */
  async recent(): Promise<{ hold: BusHold; decision: BusDecision }[]> {
    const rows = await this.redis.lrange(this.key('recent'), 0, RECENT - 1);
    return rows.flatMap((r) => {
      const v = parse<{ hold: BusHold; decision: BusDecision }>(r);
      return v ? [v] : [];
    });
  }

  /** Calls `fn` on every bus event (held, decided); reconnects by itself. */
  async subscribe(fn: (event: { event: string; id: string }) => void): Promise<void> {
    this.sub ??= new Redis(this.opts.url, { ...this.options(), enableOfflineQueue: true, maxRetriesPerRequest: null });
    this.sub.on('error', () => undefined);
    this.sub.on('message', (_ch: string, msg: string) => {
      const e = parse<{ event: string; id: string }>(msg);
      if (e && typeof e.event === 'string' && typeof e.id === 'string') fn(e);
    });
    // Not awaited: with Redis away it waits for the connection; ioredis subscribes again on reconnect.
    void this.sub.subscribe(this.channel).catch(() => undefined);
  }

  async close(): Promise<void> {
    this.sub?.disconnect();
    this.redis.disconnect();
  }
}

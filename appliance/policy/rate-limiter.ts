// Token bucket per session: `burst` requests at once, refilled at `perSecond`. The clock is
// passed in; the table is capped so that many short sessions cannot grow it without bound.

export interface Bucket {
  readonly perSecond: number;
  readonly burst: number;
}

export type Take = { readonly ok: true } | { readonly ok: false; readonly retryAfterSeconds: number };

const MAX_KEYS = 10_000;

export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  constructor(private readonly now: () => number) {}

  take(key: string, b: Bucket): Take {
    const t = this.now();
    let s = this.buckets.get(key);
    if (s) this.buckets.delete(key);
    else s = { tokens: b.burst, at: t };
    s.tokens = Math.min(b.burst, s.tokens + ((t - s.at) / 1000) * b.perSecond);
    s.at = t;
    // Re-inserted so that Map order is least recently used first.
    this.buckets.set(key, s);
    if (this.buckets.size > MAX_KEYS) {
      const oldest = this.buckets.keys().next().value;
      if (oldest !== undefined) this.buckets.delete(oldest);
    }
    if (s.tokens >= 1) {
      s.tokens -= 1;
      return { ok: true };
    }
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - s.tokens) / b.perSecond)) };
  }
}

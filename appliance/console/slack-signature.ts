// Slack's request signing: v0=HMAC-SHA256(signing secret, "v0:" + timestamp + ":" + raw body),
// in X-Slack-Signature, with X-Slack-Request-Timestamp. A callback outside the replay window, or
// one whose signature was already used inside it, is refused. Pure but for the replay cache.
import { createHmac, timingSafeEqual } from 'node:crypto';

export function slackSignature(secret: string, timestamp: string, body: Buffer | string): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:`).update(body).digest('hex')}`;
}

/** Signatures seen inside the window; bounded (the oldest go first). */
export class ReplayCache {
  private readonly seen = new Map<string, number>();
  constructor(private readonly max = 10_000) {}

  /** False when `sig` was seen before and has not expired. */
  add(sig: string, expiresAt: number, now: number): boolean {
    for (const [k, exp] of this.seen) {
      if (exp > now && this.seen.size < this.max) break;
      this.seen.delete(k);
    }
    const exp = this.seen.get(sig);
    if (exp !== undefined && exp > now) return false;
    this.seen.set(sig, expiresAt);
    return true;
  }
}

export type SlackCheck = { readonly ok: true } | { readonly ok: false; readonly why: string };

export function verifySlack(
  secret: string,
  timestamp: string | undefined,
  signature: string | undefined,
  body: Buffer,
  nowMs: number,
  windowMs: number,
  replays: ReplayCache,
): SlackCheck {
  if (!timestamp || !signature) return { ok: false, why: 'missing X-Slack-Request-Timestamp or X-Slack-Signature' };
  if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, why: 'malformed timestamp' };
  const ts = Number(timestamp) * 1000;
  if (Math.abs(nowMs - ts) > windowMs) return { ok: false, why: 'timestamp outside the replay window' };
  const want = Buffer.from(slackSignature(secret, timestamp, body));
  const got = Buffer.from(signature);
  if (got.length !== want.length || !timingSafeEqual(got, want)) return { ok: false, why: 'signature mismatch' };
  if (!replays.add(signature, ts + windowMs, nowMs)) return { ok: false, why: 'replayed callback' };
  return { ok: true };
}

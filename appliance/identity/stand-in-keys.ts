import { randomBytes, randomInt } from 'node:crypto';

// Stand-in Datadog keys: what `airlock login` gives a job as DD_API_KEY and DD_APP_KEY, so that
// tools which check a key's shape before sending (the Agent wants 32 characters, datadog-ci and
// the API clients similar) accept them. A stand-in is a random value mapped to the job's session
// in the login state (by its SHA-256, like the `alk_` token); it means nothing anywhere else:
// Datadog never issued it, and another Airlock never heard of it.
//
// Entropy, and why it is enough (the `alk_` token's guarantee is "unguessable, online or from
// the state file"):
//   API key   32 lowercase hex          = 16 random bytes         = 128 bits
//   app key   40 lowercase hex          = 20 random bytes         = 160 bits
//             or ddapp_ + 34 of [A-Za-z0-9] (uniform, no modulo bias) = 34 * log2(62) ~ 202.4 bits
// An attacker guessing online hits any of at most MAX_LIVE_TOKENS (10,000 ~ 2^13.3) live stand-ins
// with probability 2^13.3 / 2^128 = 2^-114.7 per guess; at 10^9 guesses a second for 100 years
// (~2^61.5 guesses) that is 2^-53. The state file holds only SHA-256 of each value, so reading
// it yields nothing short of a 2^128 preimage search. Both bounds are the ones the 256-bit
// `alk_` token is relied on for (128-bit security); the extra bits of the `alk_` token buy no
// practical margin beyond it.
//
// A stand-in has a real key's shape, so the shape alone never says "stand-in": only a lookup in
// this Airlock's login state does. A key-shaped value that is not a live or recently expired
// stand-in is an agent's key and is stripped like any other; a stand-in itself is stripped from
// the request too (it sits in DD-API-KEY / DD-APPLICATION-KEY), so it never reaches Datadog, and
// it is redacted wherever it is recorded (it is key-shaped, and it is the exchange's identity token).

export type AppKeyFormat = 'hex' | 'ddapp';
export const APP_KEY_FORMATS: readonly AppKeyFormat[] = ['hex', 'ddapp'];

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

export function newStandInApiKey(): string {
  return randomBytes(16).toString('hex');
}

export function newStandInAppKey(format: AppKeyFormat = 'hex'): string {
  if (format === 'hex') return randomBytes(20).toString('hex');
  // randomInt draws without modulo bias.
  let s = 'ddapp_';
  for (let i = 0; i < 34; i++) s += ALNUM[randomInt(ALNUM.length)]!;
  return s;
}

const STAND_IN_SHAPE = /^(?:[0-9a-f]{32}|[0-9a-f]{40}|ddapp_[A-Za-z0-9]{34})$/;

/** Has the shape of a stand-in (and so of a real key): worth a lookup, proof of nothing. */
export function looksLikeStandIn(s: string): boolean {
  return s.length <= 40 && STAND_IN_SHAPE.test(s);
}

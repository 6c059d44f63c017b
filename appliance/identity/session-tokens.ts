// Session tokens from `airlock login`: issue, look up, revoke; the jti replay cache; the ambient
// binding. Decisions take `now` from the injected clock; every change is saved before it counts.
import { createHash } from 'node:crypto';
import { AirlockError } from '../errors.js';
import type { Logger } from '../log.js';
import { readLoginState, writeLoginState, type LoginStateData, type StoredIdentity, type TokenRecord } from './login-state-file.js';
import { hashSessionToken, newSessionToken } from './session-token.js';
import { newStandInApiKey, newStandInAppKey, type AppKeyFormat } from './stand-in-keys.js';

/** Live session tokens held at most; past this, logins are refused (SESSION_LIMIT), not evicted. */
export const MAX_LIVE_TOKENS = 10_000;
/** Longer than anything this Airlock issues (an `alk_` token is 47 characters, a stand-in key at most 40). */
export const MAX_ISSUED_LENGTH = 64;
/** Exchanged JWT ids remembered at most; a full cache refuses logins rather than forgetting one. */
const MAX_JTIS = 100_000;
/** Expired tokens are remembered this long so that their use says TOKEN_EXPIRED, not "unknown". */
const EXPIRED_KEPT_MS = 24 * 3_600_000;

export interface SessionTokensOptions {
  readonly file: string;
  readonly ttlMs: number;
  readonly now: () => number;
  readonly log: Logger;
}

export interface Issued {
  readonly token: string;
  /** Stand-in DD_API_KEY (32 hex) and DD_APP_KEY mapped to the same session. */
  readonly apiKey: string;
  readonly appKey: string;
  readonly expiresAt: number;
  readonly bound: boolean;
}

export interface IssueRequest {
  readonly identity: StoredIdentity;
  readonly key: string;
  /** The exchanged JWT's iss and jti, and until when (epoch ms) it stays refused. */
  readonly iss: string;
  readonly jti: string;
  readonly jtiUntil: number;
  readonly bind: boolean;
  readonly appKeyFormat?: AppKeyFormat;
}

function jtiId(iss: string, jti: string): string {
  return createHash('sha256').update(`${iss}\n${jti}`).digest('base64url');
}

export class SessionTokens {
  readonly #o: SessionTokensOptions;
  #state: LoginStateData = { version: 1, tokens: [], jtis: [], binding: null };
  readonly #byHash = new Map<string, TokenRecord>();
  /** A stand-in's hash -> its record's (the `alk_` token's) hash. */
  readonly #standIns = new Map<string, string>();
  readonly #jtis = new Map<string, number>();
  // Hashes of logged-out tokens until their expiry, so a refusal can say "logged out" rather than
  // "unknown" (memory only, capped: after a restart or past the cap it says "unknown").
  readonly #revoked = new Map<string, number>();
  // Saves run one at a time, in order: the file always reflects a prefix of the decisions.
  #saving: Promise<void> = Promise.resolve();

  constructor(o: SessionTokensOptions) {
    this.#o = o;
  }

  async load(): Promise<void> {
    this.#state = await readLoginState(this.#o.file);
    for (const t of this.#state.tokens) this.#add(t);
    for (const j of this.#state.jtis) this.#jtis.set(j.id, j.until);
    this.#prune();
  }

  /** Exchanges a verified JWT (its jti unused) for a session token. */
  async issue(r: IssueRequest): Promise<Issued> {
    const now = this.#o.now();
    this.#prune();
    const jid = jtiId(r.iss, r.jti);
    if (this.#jtis.has(jid)) throw new AirlockError('TOKEN_INVALID', 'this token was already exchanged: mint a fresh one for each login');
    const live = [...this.#byHash.values()].filter((t) => t.expiresAt > now).length;
    if (live >= MAX_LIVE_TOKENS || this.#jtis.size >= MAX_JTIS) throw new AirlockError('SESSION_LIMIT');
    const b = this.#state.binding;
    if (r.bind && b && b.expiresAt > now && b.key !== r.key) throw new AirlockError('BIND_CONFLICT');

    const token = newSessionToken();
    const apiKey = newStandInApiKey();
    const appKey = newStandInAppKey(r.appKeyFormat ?? 'hex');
    const rec: TokenRecord = {
      hash: hashSessionToken(token),
      key: r.key,
      identity: r.identity,
      issuedAt: now,
      expiresAt: now + this.#o.ttlMs,
      standIns: [hashSessionToken(apiKey), hashSessionToken(appKey)],
    };
    // 2^-128 odds, but a collision would hand one job another's session: draw again instead.
    if (this.#known(rec.hash) || rec.standIns!.some((h) => this.#known(h))) throw new AirlockError('INTERNAL', 'token collision: log in again');
    const before = { binding: this.#state.binding };
    this.#jtis.set(jid, r.jtiUntil);
    this.#add(rec);
    if (r.bind) this.#state.binding = { key: r.key, hash: rec.hash, expiresAt: rec.expiresAt };
    try {
      await this.#save();
    } catch (err) {
      // Not saved means not issued: a restart would forget it and re-open the jti.
      this.#jtis.delete(jid);
      this.#remove(rec);
      this.#state.binding = before.binding;
      this.#o.log.error({ err: { code: (err as NodeJS.ErrnoException).code } }, 'cannot save the login state');
      throw new AirlockError('INTERNAL', 'the session could not be saved');
    }
    return { token, apiKey, appKey, expiresAt: rec.expiresAt, bound: r.bind };
  }

  /**
   * The session (its record's hash) an `alk_` token or a stand-in key names, expired or not;
   * null when this Airlock never issued it (or it was logged out): then a key-shaped value is an
   * agent's own key.
   */
  sessionOf(value: string): string | null {
    // Called for every token-shaped value of every request: a JWT (hundreds of characters) is
    // never an issued value, and is not hashed just to learn that.
    if (value.length > MAX_ISSUED_LENGTH) return null;
    const h = hashSessionToken(value);
    if (this.#byHash.has(h)) return h;
    return this.#standIns.get(h) ?? null;
  }

  /** The record behind a session token; TOKEN_EXPIRED past its lifetime, TOKEN_INVALID if unknown or logged out. */
  lookup(token: string): TokenRecord {
    const h = this.sessionOf(token);
    const rec = h === null ? undefined : this.#byHash.get(h);
    if (!rec) {
      // Only the alk_ token's own hash is remembered at logout: a stand-in of it reads as unknown.
      const until = this.#revoked.get(hashSessionToken(token));
      if (until !== undefined && this.#o.now() < until)
        throw new AirlockError('TOKEN_INVALID', 'this session token was logged out (airlock logout): run `airlock login` again');
      throw new AirlockError('TOKEN_INVALID', 'unknown session token: this Airlock never issued it, or it expired long ago: run `airlock login` again');
    }
    if (this.#o.now() >= rec.expiresAt) throw new AirlockError('TOKEN_EXPIRED', `expired at ${new Date(rec.expiresAt).toISOString()}`);
    return rec;
  }

  /** The bound session's record, when a live binding exists. */
  bound(): TokenRecord | null {
    const b = this.#state.binding;
    if (!b || this.#o.now() >= b.expiresAt) return null;
    const rec = this.#byHash.get(b.hash);
    return rec && this.#o.now() < rec.expiresAt ? rec : null;
  }

  /** Ends a job's login: every token of its session and its binding. Returns the record the token named. */
  async revoke(token: string): Promise<TokenRecord> {
    const rec = this.lookup(token);
    const removed = [...this.#byHash.values()].filter((t) => t.key === rec.key);
    for (const t of removed) this.#remove(t);
    for (const t of removed) this.#revoked.set(t.hash, t.expiresAt);
    while (this.#revoked.size > MAX_LIVE_TOKENS) this.#revoked.delete(this.#revoked.keys().next().value!);
    const binding = this.#state.binding;
    if (binding?.key === rec.key) this.#state.binding = null;
    try {
      await this.#save();
    } catch (err) {
      for (const t of removed) this.#add(t);
      this.#state.binding = binding;
      this.#o.log.error({ err: { code: (err as NodeJS.ErrnoException).code } }, 'cannot save the login state');
      throw new AirlockError('INTERNAL', 'the logout could not be saved');
    }
    return rec;
  }

  #prune(): void {
    const now = this.#o.now();
    for (const t of [...this.#byHash.values()]) if (t.expiresAt + EXPIRED_KEPT_MS <= now) this.#remove(t);
    for (const [id, until] of this.#jtis) if (until <= now) this.#jtis.delete(id);
    for (const [h, until] of this.#revoked) if (until <= now) this.#revoked.delete(h);
    if (this.#state.binding && this.#state.binding.expiresAt <= now) this.#state.binding = null;
  }

  #known(h: string): boolean {
    return this.#byHash.has(h) || this.#standIns.has(h);
  }

  #add(t: TokenRecord): void {
    this.#byHash.set(t.hash, t);
    for (const s of t.standIns ?? []) this.#standIns.set(s, t.hash);
  }

  #remove(t: TokenRecord): void {
    this.#byHash.delete(t.hash);
    for (const s of t.standIns ?? []) this.#standIns.delete(s);
  }

  #save(): Promise<void> {
    const data: LoginStateData = {
      version: 1,
      tokens: [...this.#byHash.values()],
      jtis: [...this.#jtis].map(([id, until]) => ({ id, until })),
      binding: this.#state.binding,
    };
    const p = this.#saving.catch(() => undefined).then(() => writeLoginState(this.#o.file, data));
    this.#saving = p;
    return p;
  }
}

// Session tokens from `airlock login`: issue, look up, revoke; the jti replay cache; the ambient
// binding. Decisions take `now` from the injected clock; every change is saved before it counts.
import { createHash } from 'node:crypto';
import { AirlockError } from '../errors.js';
import type { Logger } from '../log.js';
import { readLoginState, writeLoginState, type LoginStateData, type StoredIdentity, type TokenRecord } from './login-state-file.js';
import { hashSessionToken, newSessionToken } from './session-token.js';

/** Live session tokens held at most; past this, logins are refused (SESSION_LIMIT), not evicted. */
export const MAX_LIVE_TOKENS = 10_000;
/** Exchanged JWT ids remembered at most; a full cache refuses logins rather than forgetting one. */
export const MAX_JTIS = 100_000;
/** Expired tokens are remembered this long so that their use says TOKEN_EXPIRED, not "unknown". */
export const EXPIRED_KEPT_MS = 24 * 3_600_000;

export interface SessionTokensOptions {
  readonly file: string;
  readonly ttlMs: number;
  readonly now: () => number;
  readonly log: Logger;
}

export interface Issued {
  readonly token: string;
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
}

function jtiId(iss: string, jti: string): string {
  return createHash('sha256').update(`${iss}\n${jti}`).digest('base64url');
}

export class SessionTokens {
  readonly #o: SessionTokensOptions;
  #state: LoginStateData = { version: 1, tokens: [], jtis: [], binding: null };
  readonly #byHash = new Map<string, TokenRecord>();
  readonly #jtis = new Map<string, number>();
  // Saves run one at a time, in order: the file always reflects a prefix of the decisions.
  #saving: Promise<void> = Promise.resolve();

  constructor(o: SessionTokensOptions) {
    this.#o = o;
  }

  async load(): Promise<void> {
    this.#state = await readLoginState(this.#o.file);
    for (const t of this.#state.tokens) this.#byHash.set(t.hash, t);
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
    const rec: TokenRecord = { hash: hashSessionToken(token), key: r.key, identity: r.identity, issuedAt: now, expiresAt: now + this.#o.ttlMs };
    const before = { binding: this.#state.binding };
    this.#jtis.set(jid, r.jtiUntil);
    this.#byHash.set(rec.hash, rec);
    if (r.bind) this.#state.binding = { key: r.key, hash: rec.hash, expiresAt: rec.expiresAt };
    try {
      await this.#save();
    } catch (err) {
      // Not saved means not issued: a restart would forget it and re-open the jti.
      this.#jtis.delete(jid);
      this.#byHash.delete(rec.hash);
      this.#state.binding = before.binding;
      this.#o.log.error({ err: { code: (err as NodeJS.ErrnoException).code } }, 'cannot save the login state');
      throw new AirlockError('INTERNAL', 'the session could not be saved');
    }
    return { token, expiresAt: rec.expiresAt, bound: r.bind };
  }

  /** The record behind a session token; TOKEN_EXPIRED past its lifetime, TOKEN_INVALID if unknown or logged out. */
  lookup(token: string): TokenRecord {
    const rec = this.#byHash.get(hashSessionToken(token));
    if (!rec) throw new AirlockError('TOKEN_INVALID', 'unknown or logged-out session token');
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
    for (const t of removed) this.#byHash.delete(t.hash);
    const binding = this.#state.binding;
    if (binding?.key === rec.key) this.#state.binding = null;
    try {
      await this.#save();
    } catch (err) {
      for (const t of removed) this.#byHash.set(t.hash, t);
      this.#state.binding = binding;
      this.#o.log.error({ err: { code: (err as NodeJS.ErrnoException).code } }, 'cannot save the login state');
      throw new AirlockError('INTERNAL', 'the logout could not be saved');
    }
    return rec;
  }

  #prune(): void {
    const now = this.#o.now();
    for (const [h, t] of this.#byHash) if (t.expiresAt + EXPIRED_KEPT_MS <= now) this.#byHash.delete(h);
    for (const [id, until] of this.#jtis) if (until <= now) this.#jtis.delete(id);
    if (this.#state.binding && this.#state.binding.expiresAt <= now) this.#state.binding = null;
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

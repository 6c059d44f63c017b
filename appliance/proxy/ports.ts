// What the proxy needs from the other stages, as narrow interfaces: the proxy turns sockets into
// facts and carries out decisions; identity, credentials and recording are injected.
import type { Identity } from '../identity/types.js';
import type { Exchange, Secret, SessionMeta } from '../lib/exchange-types.js';

export interface IdentityPort {
  /** Verifies a token and matches a grant; throws AirlockError TOKEN_INVALID / NO_GRANT. */
  resolve(token: string): Promise<Identity>;
  /** For a request carrying no token: the host's bound job (`airlock login --bind`), else null. */
  ambient?(): Identity | null;
  /** Which login session an `alk_` token or stand-in key names, null if none: lets a key-shaped stand-in count as a token. */
  sessionOf?(value: string): string | null;
}

export interface SessionsPort {
  ensure(identity: Identity): Promise<SessionMeta>;
  begin(sessionId: string, b: { id: string; startedDateTime: string; method: string; url: string; note?: string }, secrets?: readonly Secret[]): Promise<void>;
  record(sessionId: string, ex: Exchange, secrets: readonly Secret[]): Promise<void>;
}

export interface VaultPort {
  get(name: string): { readonly apiKey: string; readonly appKey?: string | undefined; readonly previous?: readonly unknown[] | undefined } | undefined;
}

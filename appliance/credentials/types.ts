/** Where a fleet entry's keys come from at run time (credentials/key-sources.ts). */
export type KeySource = { readonly type: 'file'; readonly path: string } | { readonly type: 'exec'; readonly command: readonly string[]; readonly ttl: string };

/** A key pair kept after `vault rotate` until `until` (ISO 8601): masked, listed, never injected. */
export interface PreviousKeys {
  readonly apiKey: string;
  readonly appKey?: string;
  readonly until: string;
}

/** One vaulted credential. Only the proxy's injection step and the vault store ever see the keys. */
export interface VaultEntry {
  readonly name: string;
  /** '' for an entry with a `source`: the keys are read at run time, never stored here. */
  readonly apiKey: string;
  readonly appKey?: string;
  readonly source?: KeySource;
  readonly previous?: readonly PreviousKeys[];
  /** ISO 8601. */
  readonly createdAt: string;
  /** ISO 8601. */
  readonly updatedAt: string;
}

/** What `airlock vault ls` may show: fingerprints, never a key. */
export interface VaultListing {
  readonly name: string;
  /** First 8 hex chars of sha256(apiKey). */
  readonly apiKeyFingerprint: string;
  readonly appKeyFingerprint: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** 'stored', or the source's type and what the running server holds from it. */
  readonly source: 'stored' | 'file' | 'exec';
  /** stored: always fresh; sourced: fresh, stale (last good value kept after a failed refresh) or missing. */
  readonly state: 'fresh' | 'stale' | 'missing';
  /** Fingerprints of rotated-out keys and until when they are kept. */
  readonly previous: readonly { readonly apiKeyFingerprint: string; readonly until: string }[];
}

/** The keys `vault put` stores. */
export interface VaultKeys {
  readonly apiKey: string;
  readonly appKey?: string | undefined;
}

/** vault.json as stored: entries as a list so no name can collide with an Object prototype key. */
export interface VaultFile {
  readonly version: 1;
  readonly entries: readonly VaultEntry[];
}

export const VAULT_FILE = 'vault.json';
export const VAULT_LOCK = 'vault.lock';

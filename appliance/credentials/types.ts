/** One vaulted credential. Only the proxy's injection step and the vault store ever see the keys. */
export interface VaultEntry {
  readonly name: string;
  readonly apiKey: string;
  readonly appKey?: string;
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

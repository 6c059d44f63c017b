import { VaultError } from './vault-error.js';

export const VAULT_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

// Keys become header values: only visible ASCII, so a key can never smuggle CR/LF or spaces
// into the upstream request. Datadog keys are hex.
const KEY_RE = /^[\x21-\x7e]+$/;

export function assertVaultName(name: string): void {
  if (!VAULT_NAME_RE.test(name)) {
    throw new VaultError(
      'VAULT_NAME_INVALID',
      `invalid vault entry name: use 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit (${VAULT_NAME_RE.source})`,
    );
  }
}

/** Trims surrounding whitespace/newlines; `label` names where the key came from (a file, a variable). */
export function normalizeKey(raw: string, label: string): string {
  const key = raw.trim();
  if (key === '') throw new VaultError('VAULT_KEY_EMPTY', `${label} is empty`);
  if (!KEY_RE.test(key)) {
    throw new VaultError('VAULT_KEY_INVALID', `${label} contains whitespace or control characters inside the key`);
  }
  return key;
}

export function isValidKey(key: string): boolean {
  return KEY_RE.test(key);
}

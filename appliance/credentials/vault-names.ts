// The entry names in <stateDir>/vault.json, for `check-config --state-dir` (never a key). An
// absent vault holds no names; one this user cannot read gives null (nothing can be said).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseVault } from './parse-vault.js';
import { VAULT_FILE } from './types.js';

export function vaultNames(stateDir: string): ReadonlySet<string> | null {
  const file = join(stateDir, VAULT_FILE);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? new Set() : null;
  }
  return new Set(parseVault(text, file).entries.map((e) => e.name));
}

// The secrets of one exchange: what its journal lines are redacted for, and what its response
// is masked for.
import type { Secret } from '../lib/exchange-types.js';
import type { VaultPort } from './ports.js';

export const NO_SECRETS: readonly string[] = [];
type Keys = NonNullable<ReturnType<VaultPort['get']>>;
const masking = new WeakMap<Keys, { readonly all: readonly string[]; readonly list: readonly string[] }>();

/**
 * What a response is masked for: the injected keys (even if the vault was reloaded without them
 * mid-request) and every other vaulted key. The same array while the entry and the vault stay
 * the same, so the compiled masker is reused (masking/mask-text.ts).
 */
export function maskSecrets(entry: Keys, all: readonly string[]): readonly string[] {
  const cached = masking.get(entry);
  if (cached?.all === all) return cached.list;
  const list = [entry.apiKey, ...(entry.appKey ? [entry.appKey] : []), ...all];
  masking.set(entry, { all, list });
  return list;
}

export function credentialSecrets(name: string, entry: { apiKey: string; appKey?: string | undefined }): Secret[] {
  const out: Secret[] = [{ value: entry.apiKey, label: `credential ${name} api key` }];
  if (entry.appKey) out.push({ value: entry.appKey, label: `credential ${name} application key` });
  return out;
}

import { KEY_HEADERS } from '../secrets/credential-name.js';
import type { VaultEntry } from './types.js';

export interface InjectResult {
  readonly rawHeaders: string[];
  /** What was added: "header:dd-api-key", and "header:dd-application-key" when the entry has one. */
  readonly injected: string[];
}

// Same folding as the strip step: any spelling of these names is replaced, so a caller that
// forgot to strip still cannot end up sending two keys.
const INJECTED: ReadonlySet<string> = new Set(KEY_HEADERS);

/** Appends the vaulted key headers; every other header stays as it was, in order. */
export function injectCredential(rawHeaders: readonly string[], entry: VaultEntry): InjectResult {
  const out: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] ?? '';
    if (INJECTED.has(name.toLowerCase().replaceAll('_', '-'))) continue;
    out.push(name, rawHeaders[i + 1] ?? '');
  }
  const injected = ['header:dd-api-key'];
  out.push('DD-API-KEY', entry.apiKey);
  if (entry.appKey !== undefined) {
    out.push('DD-APPLICATION-KEY', entry.appKey);
    injected.push('header:dd-application-key');
  }
  return { rawHeaders: out, injected };
}

import { VaultError } from './vault-error.js';
import { normalizeKey } from './validate.js';

/** What a key source yields: a key pair, and when it stops being valid (epoch ms), if it says. */
export interface SourcedKeys {
  readonly apiKey: string;
  readonly appKey?: string;
  readonly expiresAt?: number;
}

const MAX_OUTPUT = 64 * 1024;

/**
 * A credential process's stdout or a rendered file: `{"apiKey": ..., "appKey": ..., "expiresAt": ...}`
 * (expiresAt ISO 8601 or epoch seconds, both optional but apiKey), or a bare API key (systemd
 * credentials, `op read`). Errors name what is wrong, never a value.
 */
export function parseKeyOutput(text: string, what: string): SourcedKeys {
  if (text.length > MAX_OUTPUT) throw new VaultError('VAULT_SOURCE_FAILED', `${what}: more than ${MAX_OUTPUT} bytes`);
  const t = text.trim();
  if (!t.startsWith('{')) return { apiKey: normalizeKey(t, what) };
  let v: unknown;
  try {
    v = JSON.parse(t);
  } catch {
    throw new VaultError('VAULT_SOURCE_FAILED', `${what}: not JSON (expected {"apiKey": ..., "appKey": ..., "expiresAt": ...})`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new VaultError('VAULT_SOURCE_FAILED', `${what}: not a JSON object`);
  const o = v as Record<string, unknown>;
  if (typeof o['apiKey'] !== 'string') throw new VaultError('VAULT_SOURCE_FAILED', `${what}: "apiKey" is missing or not a string`);
  const apiKey = normalizeKey(o['apiKey'], `${what} apiKey`);
  const app = o['appKey'];
  if (app !== undefined && app !== null && typeof app !== 'string') throw new VaultError('VAULT_SOURCE_FAILED', `${what}: "appKey" is not a string`);
  const appKey = typeof app === 'string' && app.trim() !== '' ? normalizeKey(app, `${what} appKey`) : undefined;
  const exp = o['expiresAt'];
  let expiresAt: number | undefined;
  if (typeof exp === 'number' && Number.isFinite(exp)) expiresAt = exp * 1000;
  else if (typeof exp === 'string' && exp !== '') {
    expiresAt = Date.parse(exp);
    if (!Number.isFinite(expiresAt)) throw new VaultError('VAULT_SOURCE_FAILED', `${what}: "expiresAt" is not an ISO 8601 time or epoch seconds`);
  } else if (exp !== undefined && exp !== null) throw new VaultError('VAULT_SOURCE_FAILED', `${what}: "expiresAt" is not an ISO 8601 time or epoch seconds`);
  return { apiKey, ...(appKey ? { appKey } : {}), ...(expiresAt !== undefined ? { expiresAt } : {}) };
}

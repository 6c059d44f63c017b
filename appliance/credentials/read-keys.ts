import { readFile } from 'node:fs/promises';
import type { VaultKeys } from './types.js';
import { VaultError } from './vault-error.js';
import { normalizeKey } from './validate.js';

/** For `vault put --api-key-file F [--app-key-file F]`: keys never pass through argv. */
export async function readKeysFromFiles(apiKeyFile: string, appKeyFile?: string): Promise<VaultKeys> {
  const apiKey = normalizeKey(await readKeyFile(apiKeyFile), `the API key file ${apiKeyFile}`);
  if (appKeyFile === undefined) return { apiKey };
  const appKey = normalizeKey(await readKeyFile(appKeyFile), `the application key file ${appKeyFile}`);
  return { apiKey, appKey };
}

/** For `vault put --from-env`: DD_API_KEY (required) and DD_APP_KEY (optional; empty means none). */
export function readKeysFromEnv(env: NodeJS.ProcessEnv): VaultKeys {
  const api = env['DD_API_KEY'];
  if (api === undefined) {
    throw new VaultError('VAULT_ENV_MISSING', 'DD_API_KEY is not set: export it, or use --api-key-file');
  }
  const apiKey = normalizeKey(api, 'DD_API_KEY');
  const app = env['DD_APP_KEY'];
  if (app === undefined || app.trim() === '') return { apiKey };
  return { apiKey, appKey: normalizeKey(app, 'DD_APP_KEY') };
}

async function readKeyFile(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unknown error';
    throw new VaultError('VAULT_KEY_FILE_UNREADABLE', `cannot read the key file ${file}: ${code}`);
  }
}

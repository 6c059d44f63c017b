import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { Logger } from '../log.js';
import { VaultStore } from './vault-store.js';

/** systemd's LoadCredential= puts the seed here (see systemd/airlock.service). */
const SEED_CREDENTIAL = 'airlock_vault-seed';

const seedSchema = z.record(z.string(), z.strictObject({ apiKey: z.string().min(1), appKey: z.string().min(1).optional() }));

/**
 * Adds the entries of a vault seed (JSON: {"NAME": {"apiKey": "...", "appKey": "..."}}) that the
 * vault does not hold yet. Existing entries win: an operator's later `vault put` is never undone
 * by a restart. Returns the names added. Errors never quote the file (it holds keys).
 */
export async function importVaultSeed(stateDir: string, env: NodeJS.ProcessEnv, log: Logger): Promise<string[]> {
  const dir = env['CREDENTIALS_DIRECTORY'];
  if (!dir) return [];
  let text: string;
  try {
    text = await readFile(join(dir, SEED_CREDENTIAL), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new Error(`cannot read the vault seed credential: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, { cause: err });
  }
  let parsed: z.infer<typeof seedSchema>;
  try {
    parsed = seedSchema.parse(JSON.parse(text));
  } catch {
    throw new Error(`the vault seed credential is not {"NAME": {"apiKey": "...", "appKey": "..."}} JSON`);
  }
  const store = new VaultStore(stateDir);
  const have = new Set((await store.list()).map((e) => e.name));
  const added: string[] = [];
  for (const [name, keys] of Object.entries(parsed)) {
    if (have.has(name)) continue;
    await store.put(name, { apiKey: keys.apiKey, appKey: keys.appKey });
    added.push(name);
  }
  if (added.length > 0) log.info({ entries: added }, 'vault entries added from the seed credential');
  return added;
}

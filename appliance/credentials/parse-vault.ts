import { z } from 'zod';
import type { VaultEntry, VaultFile } from './types.js';
import { VaultError } from './vault-error.js';
import { VAULT_NAME_RE, isValidKey } from './validate.js';

// A hand-edited vault.json is checked as strictly as `vault put` checks its input, so the
// proxy never injects a key that could break a header.
const key = z.string().refine(isValidKey);
const sourceSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('file'),
    path: z
      .string()
      .min(1)
      .refine((p) => p.startsWith('/'), 'an absolute path'),
  }),
  z.strictObject({
    type: z.literal('exec'),
    command: z
      .array(z.string().min(1))
      .min(1)
      .refine((c) => c[0]!.startsWith('/'), 'an absolute program path'),
    ttl: z.string().regex(/^\d+(ms|s|m|h)$/),
  }),
]);
const previousSchema = z.strictObject({ apiKey: key, appKey: key.optional(), until: z.string().min(1) });
const entrySchema = z
  .strictObject({
    name: z.string().regex(VAULT_NAME_RE),
    apiKey: key.optional(),
    appKey: key.optional(),
    source: sourceSchema.optional(),
    previous: z.array(previousSchema).max(16).optional(),
    createdAt: z.string().min(1),
    updatedAt: z.string().min(1),
  })
  // Either stored keys or a source that yields them, never both (which would win is a guess).
  .refine((e) => (e.source === undefined) !== (e.apiKey === undefined && e.appKey === undefined), 'apiKey or source');
const fileSchema = z.strictObject({ version: z.literal(1), entries: z.array(entrySchema) });

export const EMPTY_VAULT: VaultFile = Object.freeze({ version: 1, entries: Object.freeze([]) });

/** Parses vault.json's text; throws VAULT_CORRUPT naming the file, never quoting it. */
export function parseVault(text: string, file: string): VaultFile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new VaultError('VAULT_CORRUPT', `${file} is not valid JSON: restore it from a backup or remove it and put the entries again`);
  }
  const parsed = fileSchema.safeParse(json);
  if (!parsed.success) {
    // Issue paths only: zod messages can quote the offending value.
    const where = parsed.error.issues.map((i) => i.path.join('.') || '(file)').join(', ');
    throw new VaultError('VAULT_CORRUPT', `${file} does not have the vault's shape (at ${where})`);
  }
  const seen = new Set<string>();
  const entries: VaultEntry[] = [];
  for (const e of parsed.data.entries) {
    if (seen.has(e.name)) throw new VaultError('VAULT_CORRUPT', `${file} lists the entry ${e.name} twice`);
    seen.add(e.name);
    const { appKey, apiKey, source, previous, ...rest } = e;
    const prev = previous?.map((p) => (p.appKey === undefined ? { apiKey: p.apiKey, until: p.until } : { apiKey: p.apiKey, appKey: p.appKey, until: p.until }));
    entries.push({
      ...rest,
      apiKey: apiKey ?? '',
      ...(appKey === undefined ? {} : { appKey }),
      ...(source === undefined
        ? {}
        : { source: source.type === 'file' ? { type: 'file', path: source.path } : { type: 'exec', command: [...source.command], ttl: source.ttl } }),
      ...(prev === undefined || prev.length === 0 ? {} : { previous: prev }),
    });
  }
  return { version: 1, entries };
}

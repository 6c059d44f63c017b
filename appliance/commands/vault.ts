import { VaultStore } from '../credentials/vault-store.js';
import { readKeysFromEnv, readKeysFromFiles } from '../credentials/read-keys.js';
import { load, CliError, type CommonArgs } from './context.js';
import { table } from './table.js';
import { isAbsolute } from 'node:path';
import ms from 'ms';
import type { KeySource } from '../credentials/types.js';

export interface VaultPutArgs extends CommonArgs {
  name: string;
  'api-key-file'?: string | undefined;
  'app-key-file'?: string | undefined;
  'from-env'?: boolean | undefined;
  'source-file'?: string | undefined;
  'source-exec'?: string | undefined;
  'source-arg'?: string[] | undefined;
  ttl?: string | undefined;
}

async function vaultPutSource(args: VaultPutArgs): Promise<string> {
  const { config } = load(args);
  if (args['api-key-file'] !== undefined || args['from-env'] || args['app-key-file'] !== undefined)
    throw new CliError('USAGE', 'an entry has stored keys or a source, not both', 2);
  if (args['source-file'] !== undefined && args['source-exec'] !== undefined) throw new CliError('USAGE', 'give one of --source-file or --source-exec', 2);
  let source: KeySource;
  if (args['source-file'] !== undefined) {
    if (!isAbsolute(args['source-file'])) throw new CliError('USAGE', '--source-file must be an absolute path', 2);
    source = { type: 'file', path: args['source-file'] };
  } else {
    const cmd = args['source-exec']!;
    if (!isAbsolute(cmd)) throw new CliError('USAGE', '--source-exec must be an absolute path to a program (it runs without a shell)', 2);
    const ttl = args.ttl ?? '10m';
    if (!/^\d+(ms|s|m|h)$/.test(ttl)) throw new CliError('USAGE', '--ttl is a duration like 30s, 10m or 1h', 2);
    source = { type: 'exec', command: [cmd, ...(args['source-arg'] ?? []).map(String)], ttl };
  }
  const { created } = await new VaultStore(config.stateDir).putSource(args.name, source);
  return `${created ? 'stored' : 'updated'} ${args.name} (keys from its ${source.type} source; a running server picks it up within 2 s)`;
}

export async function vaultPutCommand(args: VaultPutArgs): Promise<string> {
  if (args['source-file'] !== undefined || args['source-exec'] !== undefined) return vaultPutSource(args);
  if (args['source-arg'] !== undefined || args.ttl !== undefined) throw new CliError('USAGE', '--source-arg and --ttl go with --source-exec', 2);
  const { config } = load(args);
  const fromFile = args['api-key-file'] !== undefined;
  if (fromFile === (args['from-env'] === true)) {
    throw new CliError('USAGE', 'give exactly one of --api-key-file FILE or --from-env', 2);
  }
  if (!fromFile && args['app-key-file'] !== undefined) {
    throw new CliError('USAGE', '--app-key-file goes with --api-key-file (with --from-env, set DD_APP_KEY)', 2);
  }
  // Keys come from files or the environment, never from argv, where `ps` would show them.
  const keys = fromFile ? await readKeysFromFiles(args['api-key-file']!, args['app-key-file']) : readKeysFromEnv(process.env);
  const store = new VaultStore(config.stateDir);
  const { created } = await store.put(args.name, keys);
  return `${created ? 'stored' : 'updated'} ${args.name}${keys.appKey ? ' (api key and application key)' : ' (api key)'}`;
}

export async function vaultLsCommand(args: CommonArgs & { json?: boolean }): Promise<string> {
  const { config } = load(args);
  const list = await new VaultStore(config.stateDir).list();
  if (args.json) return JSON.stringify(list, null, 2);
  if (list.length === 0) return 'the vault is empty (add a key with `airlock vault put NAME --api-key-file FILE`)';
  const rows = list.map((e) => [
    e.name,
    e.apiKeyFingerprint,
    e.appKeyFingerprint ?? '-',
    e.source,
    e.state,
    e.previous.map((p) => `${p.apiKeyFingerprint} until ${p.until}`).join(', ') || '-',
    e.createdAt,
    e.updatedAt,
  ]);
  return table(['NAME', 'API KEY', 'APP KEY', 'SOURCE', 'STATE', 'PREVIOUS', 'CREATED', 'UPDATED'], rows);
}

export interface VaultRotateArgs extends CommonArgs {
  name: string;
  'api-key-file'?: string | undefined;
  'app-key-file'?: string | undefined;
  grace?: string | undefined;
}

export async function vaultRotateCommand(args: VaultRotateArgs): Promise<string> {
  const { config } = load(args);
  if (args['api-key-file'] === undefined) throw new CliError('USAGE', '--api-key-file FILE is required (keys never go on the command line)', 2);
  const grace = ms((args.grace ?? '24h') as ms.StringValue);
  if (typeof grace !== 'number' || !Number.isFinite(grace) || grace < 0) throw new CliError('USAGE', '--grace is a duration like 1h or 7d', 2);
  const keys = await readKeysFromFiles(args['api-key-file'], args['app-key-file']);
  const r = await new VaultStore(config.stateDir).rotate(args.name, keys, grace);
  return `rotated ${args.name}: new keys are current, the old ones kept as previous until ${new Date(Date.now() + grace).toISOString()} (${r.previous} previous); revoke them in Datadog after that`;
}

export async function vaultRmCommand(args: CommonArgs & { name: string }): Promise<string> {
  const { config } = load(args);
  const removed = await new VaultStore(config.stateDir).remove(args.name);
  if (!removed) throw new CliError('VAULT_NOT_FOUND', `no vault entry named ${args.name} (airlock vault ls lists them)`);
  return `removed ${args.name}`;
}

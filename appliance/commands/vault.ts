import { VaultStore } from '../credentials/vault-store.js';
import { readKeysFromEnv, readKeysFromFiles } from '../credentials/read-keys.js';
import { load, CliError, type CommonArgs } from './context.js';
import { table } from './table.js';

export interface VaultPutArgs extends CommonArgs {
  name: string;
  'api-key-file'?: string | undefined;
  'app-key-file'?: string | undefined;
  'from-env'?: boolean | undefined;
}

export async function vaultPutCommand(args: VaultPutArgs): Promise<string> {
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
  const rows = list.map((e) => [e.name, e.apiKeyFingerprint, e.appKeyFingerprint ?? '-', e.createdAt, e.updatedAt]);
  return table(['NAME', 'API KEY', 'APP KEY', 'CREATED', 'UPDATED'], rows);
}

export async function vaultRmCommand(args: CommonArgs & { name: string }): Promise<string> {
  const { config } = load(args);
  const removed = await new VaultStore(config.stateDir).remove(args.name);
  if (!removed) throw new CliError('VAULT_NOT_FOUND', `no vault entry named ${args.name} (airlock vault ls lists them)`);
  return `removed ${args.name}`;
}

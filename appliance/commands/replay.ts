// `airlock replay FILE --target BASE_URL`: prints one row per request; --strict exits 1 on any divergence.
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { userInfo } from 'node:os';
import { parseVault } from '../credentials/parse-vault.js';
import { VAULT_FILE } from '../credentials/types.js';
import { createLogger } from '../log.js';
import type { HarEntry } from '../recording/har/index.js';
import { MAX_SIGNED_HAR_BYTES } from '../recording/integrity/index.js';
import { replaySession } from '../replay/replay-session.js';
import { cliSeal } from '../shipping/cli-seal.js';
import { VERSION } from '../version.js';
import { CliError, load, sessionsDir, type CommonArgs } from './context.js';
import { table } from './table.js';

export interface ReplayArgs extends CommonArgs {
  file: string;
  target: string;
  credential?: string | undefined;
  only?: string | undefined;
  'dry-run'?: boolean;
  strict?: boolean;
  json?: boolean;
}

async function readHar(file: string): Promise<{ entries: HarEntry[]; session: string }> {
  let v: unknown;
  try {
    if ((await stat(file)).size > MAX_SIGNED_HAR_BYTES) throw new Error('too large');
    v = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new CliError('HAR_UNREADABLE', `cannot read a HAR from ${file}: ${(err as Error).message}`);
  }
  const log = (v as { log?: { entries?: unknown; _airlock?: { session?: unknown } } } | null)?.log;
  if (!log || !Array.isArray(log.entries)) throw new CliError('HAR_UNREADABLE', `${file} is not a HAR (no log.entries)`);
  return { entries: log.entries as HarEntry[], session: typeof log._airlock?.session === 'string' ? log._airlock.session : 'unknown' };
}

function operator(): string {
  try {
    return userInfo().username;
  } catch {
    return `uid:${process.getuid?.() ?? '?'}`;
  }
}

export async function replayCommand(args: ReplayArgs): Promise<string> {
  const { config } = load(args);
  let target: URL;
  try {
    target = new URL(args.target);
    if (target.protocol !== 'https:' && target.protocol !== 'http:') throw new Error('not http(s)');
    if (target.search || target.hash || target.username || target.password) throw new Error('a base URL has no query, fragment or credentials');
  } catch (err) {
    throw new CliError('BAD_TARGET', `--target must be a base URL such as https://api.datadoghq.eu (${(err as Error).message})`, 2);
  }
  const har = await readHar(args.file);
  // Never the recorded session's key: a sandbox org usually lives on the same site as
  // production under another key, so the operator names the vault entry every time.
  if (args.credential === undefined || args.credential === '') {
    throw new CliError(
      'USAGE',
      "replay needs --credential NAME: the vault entry whose key the target accepts (airlock vault ls lists them); it never reuses the recorded session's credential",
      2,
    );
  }
  const file = join(config.stateDir, VAULT_FILE);
  const text = await readFile(file, 'utf8').catch(() => null);
  const entry = text === null ? undefined : parseVault(text, file).entries.find((e) => e.name === args.credential);
  if (!entry) throw new CliError('CREDENTIAL_MISSING', `no vault entry ${args.credential} (airlock vault ls lists them)`);
  const credential = { name: args.credential, entry };
  const only = args.only
    ? new Set(
        args.only
          .split(',')
          .map((m) => m.trim().toUpperCase())
          .filter(Boolean),
      )
    : null;
  const log = createLogger({ destination: process.stderr, level: 'warn' });
  const { rows, sessionId } = await replaySession({
    config,
    entries: har.entries,
    originalSession: har.session,
    target,
    credential,
    only,
    dryRun: args['dry-run'] === true,
    operator: operator(),
    sessionsDir: sessionsDir(config.stateDir),
    ...(args['dry-run'] ? {} : { seal: await cliSeal(config, log) }),
    log,
    creatorVersion: VERSION,
  });
  const diverged = rows.filter((r) => r.diverged).length;
  if (args.strict && diverged > 0) process.exitCode = 1;
  const skipped = rows.filter((r) => !r.send).length;
  if (args.json)
    return JSON.stringify(
      { replayOf: har.session, session: sessionId, credential: credential.name, dryRun: args['dry-run'] === true, skipped, diverged, rows },
      null,
      2,
    );
  const lines = [
    table(
      ['METHOD', 'PATH', 'RECORDED', 'REPLAYED', 'KEYS MATCH', 'NOTE'],
      rows.map((r) => [r.method, r.path, String(r.recorded), r.replayed === null ? '-' : String(r.replayed), r.keysMatch, r.note]),
    ),
    '',
    `${rows.length} request(s), ${skipped} skipped (only exchanges that reached Datadog are replayed), ${diverged} diverged; credential ${credential.name} (vault entry)` +
      (args['dry-run'] ? '; dry run: nothing sent' : '') +
      (sessionId ? `; recorded as session ${sessionId} (replay of ${har.session})` : ''),
  ];
  return lines.join('\n');
}

// yargs registration for the audit trail's commands (issue 6), kept out of cli.ts so that file
// stays a thin list: `sessions verify|grep|flush|prune`, `replay` and `signing-key public`.
import type { Argv } from 'yargs';
import { grepOptions, sessionsGrepCommand } from './sessions-search.js';

type Run = <A>(fn: (args: A) => Promise<string | null> | string | null) => (args: A) => Promise<void>;
// yargs' handler types are inferred from each builder; the commands check their own arguments.
type Handler = (a: unknown) => Promise<string | null>;

export function auditSessionCommands<T>(y: Argv<T>, run: Run): Argv<T> {
  return y
    .command(
      'verify <file>',
      "check a HAR's signature and hash chain; names the first altered, missing or reordered entry (exit 1)",
      (yy) =>
        yy
          .positional('file', { type: 'string', demandOption: true })
          .option('sig', { type: 'string', describe: 'the detached signature (default FILE.sig)' })
          .option('public-key', { type: 'string', describe: 'public JWK file (default: this appliance’s signing key)' })
          .option('keys', { type: 'string', describe: 'trusted key directory: the key is DIR/<kid>.jwk for the kid the .sig names' })
          .option('sink', { type: 'boolean', describe: 'trust the keys the fleet published in recording.sink (keys/<kid>.jwk)' })
          .option('json', { type: 'boolean', default: false, describe: 'print JSON' }),
      run(async (a) => (await import('./audit.js')).sessionsVerifyCommand(a as never)),
    )
    .command('grep', 'stream matching exchanges across sessions', (yy) => grepOptions(yy), run(sessionsGrepCommand as Handler))
    .command(
      'flush',
      'wait until every finalized session is shipped to recording.sink (exit 1 if not)',
      (yy) => yy.option('timeout', { type: 'string', default: '60s', describe: 'give up after this long' }),
      run(async (a) => (await import('./shipping.js')).sessionsFlushCommand(a as never)),
    )
    .command(
      'prune',
      'remove local files of closed, shipped sessions older than recording.retain',
      (yy) =>
        yy
          .option('older-than', { type: 'string', describe: 'overrides recording.retain (e.g. 30d)' })
          .option('dry-run', { type: 'boolean', default: false, describe: 'only list what would go' })
          .option('json', { type: 'boolean', default: false, describe: 'print JSON' }),
      run(async (a) => (await import('./shipping.js')).sessionsPruneCommand(a as never)),
    );
}

export function auditCommands<T>(y: Argv<T>, run: Run): Argv<T> {
  return y
    .command(
      'replay <file>',
      're-issue a recorded session against a sandbox base URL, recorded as a new session',
      (yy) =>
        yy
          .positional('file', { type: 'string', demandOption: true })
          .option('target', { type: 'string', demandOption: true, describe: 'sandbox base URL, e.g. https://api.datadoghq.eu' })
          .option('credential', { type: 'string', describe: "vault entry whose key the target accepts (required: never the recorded session's)" })
          .option('only', { type: 'string', describe: 'only these methods, comma-separated (GET,POST)' })
          .option('dry-run', { type: 'boolean', default: false, describe: 'print what would be sent; send nothing' })
          .option('strict', { type: 'boolean', default: false, describe: 'exit 1 on any divergence' })
          .option('json', { type: 'boolean', default: false, describe: 'print JSON' }),
      run(async (a) => (await import('./replay.js')).replayCommand(a as never)),
    )
    .command(
      'reload',
      're-read the config in the running server (as SIGHUP / systemctl reload airlock); prints what changed or the errors',
      (yy) => yy.option('json', { type: 'boolean', default: false, describe: 'print JSON' }),
      run(async (a) => (await import('./reload.js')).reloadCommand(a as never)),
    )
    .command('signing-key', 'the HAR signing key', (yy) =>
      yy
        .command(
          'public',
          'print the public JWK (for `sessions verify --public-key`)',
          (yyy) => yyy,
          run(async (a) => (await import('./audit.js')).signingKeyPublicCommand(a as never)),
        )
        .demandCommand(1, 'name a signing-key subcommand: public'),
    );
}

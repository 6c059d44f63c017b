#!/usr/bin/env node
// The airlock command line: parse, call, print. Exit codes: 0 ok, 1 runtime failure, 2 usage or config error.
// Command implementations load on use: `sessions ls` must not pay for the proxy, the CA code and
// the policy engine at start-up.
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { ConfigError } from './config/load-config.js';
import { CliError, type CommonArgs } from './commands/context.js';
import { sessionsCloseCommand, sessionsExportCommand, sessionsLsCommand, sessionsShowCommand } from './commands/sessions.js';
import { auditCommands, auditSessionCommands } from './commands/audit-cli.js';
import { lsFilterOptions } from './commands/sessions-search.js';
import { fleetCommands } from './commands/fleet-cli.js';
import type { LoginArgs } from './commands/login.js';
import type { LogoutArgs } from './commands/logout.js';
import type { WhoamiArgs } from './commands/whoami.js';
import { VERSION } from './version.js';
import { errorLine, isBrokenPipe, quietOnBrokenPipe, unknownCommand } from './commands/cli-contract.js';

// `airlock sessions export ID | head -c 100`: a closed pipe ends the command quietly, status 0.
quietOnBrokenPipe();
// Checked before yargs, which would answer an unknown command given --help with the top-level help and 0.
const unknown = unknownCommand(hideBin(process.argv));
if (unknown !== null) {
  process.stderr.write(`${errorLine('USAGE', unknown)}\n`);
  process.exit(2);
}

function print(text: string | null): void {
  if (text !== null) process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

function fail(err: unknown): never {
  if (isBrokenPipe(err)) process.exit(0);
  const e = err as { code?: unknown; message?: unknown; exitCode?: unknown };
  const code = typeof e.code === 'string' ? e.code : 'ERROR';
  const message = typeof e.message === 'string' ? e.message : String(err);
  process.stderr.write(`${errorLine(code, message)}\n`);
  process.exit(err instanceof ConfigError ? 2 : err instanceof CliError ? err.exitCode : 1);
}

function run<A>(fn: (args: A) => Promise<string | null> | string | null) {
  return async (args: A): Promise<void> => {
    try {
      print(await fn(args));
    } catch (err) {
      fail(err);
    }
  };
}

const common = <T>(y: Argv<T>) =>
  y
    .option('config', { type: 'string', describe: 'config file (default ./airlock.yaml when present, else built-in defaults)' })
    .option('state-dir', { type: 'string', describe: 'state directory (default ./.airlock; wins over the config file)' });

const json = <T>(y: Argv<T>) => y.option('json', { type: 'boolean', default: false, describe: 'print JSON' });

await auditCommands(common(yargs(hideBin(process.argv))), run)
  .scriptName('airlock')
  .version(VERSION)
  .usage('$0 <command>\n\nIdentity-bound, recorded access from CI jobs and AI agents to the Datadog API.')
  .command(
    'serve',
    'run the proxy',
    (y) =>
      y.option('listen', { type: 'string', describe: 'HOST:PORT to listen on (default 127.0.0.1:3128)' }).option('log-format', {
        choices: ['json', 'pretty'] as const,
        default: 'json' as const,
        describe: 'json: pino lines for log shippers; pretty: readable lines for a person at a terminal',
      }),
    async (args) => {
      try {
        await (await import('./commands/serve.js')).serveCommand(args);
      } catch (err) {
        fail(err);
      }
    },
  )
  .command('ca', 'manage the interception CA', (y) =>
    y
      .command(
        'init',
        'create <state>/ca/ca.crt and ca.key (kept when present unless --force)',
        (yy) => yy.option('force', { type: 'boolean', default: false, describe: 'replace an existing CA' }),
        run(async (a: CommonArgs & { force?: boolean }) => (await import('./commands/ca.js')).caInitCommand(a)),
      )
      .command(
        'cert',
        'print the CA certificate (PEM)',
        (yy) => yy,
        run(async (a: CommonArgs) => (await import('./commands/ca.js')).caCertCommand(a)),
      )
      .demandCommand(1, 'name a ca subcommand: init or cert'),
  )
  .command('vault', 'manage vaulted Datadog keys', (y) =>
    y
      .command(
        'put <name>',
        'store a key pair under NAME (keys come from files or DD_API_KEY/DD_APP_KEY, never argv)',
        (yy) =>
          yy
            .positional('name', { type: 'string', demandOption: true })
            .option('api-key-file', { type: 'string', describe: 'file holding the Datadog API key' })
            .option('app-key-file', { type: 'string', describe: 'file holding the Datadog application key' })
            .option('from-env', { type: 'boolean', describe: 'read DD_API_KEY and DD_APP_KEY' })
            .option('source-file', {
              type: 'string',
              describe: 'absolute path of a file another agent renders (JSON {"apiKey","appKey"} or a bare API key), re-read on change',
            })
            .option('source-exec', { type: 'string', describe: 'absolute path of a credential process printing {"apiKey","appKey","expiresAt"} (no shell)' })
            .option('source-arg', { type: 'string', array: true, describe: 'an argument for --source-exec (repeat)' })
            .option('ttl', { type: 'string', describe: 'with --source-exec: refresh at least this often (default 10m)' }),
        run(async (a) => (await import('./commands/vault.js')).vaultPutCommand(a as never)),
      )
      .command(
        'rotate <name>',
        'make new keys current and keep the old ones as previous for a grace period',
        (yy) =>
          yy
            .positional('name', { type: 'string', demandOption: true })
            .option('api-key-file', { type: 'string', describe: 'file holding the new Datadog API key' })
            .option('app-key-file', { type: 'string', describe: 'file holding the new application key (default: keep the current one)' })
            .option('grace', { type: 'string', default: '24h', describe: 'how long the old keys stay listed and masked as previous' }),
        run(async (a) => (await import('./commands/vault.js')).vaultRotateCommand(a as never)),
      )
      .command(
        'ls',
        'list entries (name, key fingerprints, times; never a key)',
        json,
        run(async (a: CommonArgs & { json?: boolean }) => (await import('./commands/vault.js')).vaultLsCommand(a)),
      )
      .command(
        'rm <name>',
        'remove an entry',
        (yy) => yy.positional('name', { type: 'string', demandOption: true }),
        run(async (a) => (await import('./commands/vault.js')).vaultRmCommand(a as never)),
      )
      .demandCommand(1, 'name a vault subcommand: put, rotate, ls or rm'),
  )
  .command('sessions', 'list, inspect, close, export, search, verify, ship and prune recorded sessions', (y) =>
    auditSessionCommands(y, run)
      .command(
        'ls',
        'list sessions, newest first (filters: see --help)',
        (yy) =>
          lsFilterOptions(json(yy)).option('limit', {
            type: 'number',
            describe: 'at most N sessions, newest first (default 100 for the table, all for --json; 0 = all)',
          }),
        run(sessionsLsCommand as (a: unknown) => Promise<string>),
      )
      .command(
        'show <id>',
        'show one session',
        (yy) => json(yy.positional('id', { type: 'string', demandOption: true })),
        run(sessionsShowCommand as (a: unknown) => Promise<string>),
      )
      .command(
        'close <id>',
        'close an open session and write its HAR',
        (yy) => yy.positional('id', { type: 'string', demandOption: true }),
        run(sessionsCloseCommand as (a: unknown) => Promise<string>),
      )
      .command(
        'export <id>',
        'write the session as HAR (a snapshot when still open)',
        (yy) =>
          yy
            .positional('id', { type: 'string', demandOption: true })
            .option('output', { alias: 'o', type: 'string', describe: 'file to write (default stdout)' }),
        run(sessionsExportCommand as (a: unknown) => Promise<string | null>),
      )
      .demandCommand(1, 'name a sessions subcommand: ls, show, close, export, verify, grep, flush or prune'),
  )
  .command(
    'console',
    "serve the approval console: sign-in with the organization's OIDC provider, live holds from every runner on approvals.bus, approve/deny, Slack callbacks",
    (y) => y,
    async (args) => {
      try {
        await (await import('./commands/console.js')).consoleCommand(args);
      } catch (err) {
        fail(err);
      }
    },
  )
  .command('fleet', "search, export and verify every appliance's sessions in recording.sink", (y) => fleetCommands(common(y), run))
  .command('approvals', "list and decide requests held for approval (the running server's control socket, or approvals.bus with an approver token)", (y) =>
    y
      .option('token-file', {
        type: 'string',
        describe: 'with approvals.bus: file holding your ID token from console.oidc.issuer (or AIRLOCK_APPROVER_TOKEN); it names the approver',
      })
      .command(
        'ls',
        'requests waiting: id, identity, request, body preview, age',
        json,
        run(async (a) => (await import('./commands/approvals.js')).approvalsLsCommand(a as never)),
      )
      .command(
        'approve <id>',
        'forward a held request',
        (yy) => yy.positional('id', { type: 'string', demandOption: true }).option('note', { type: 'string', describe: 'recorded with the approval' }),
        run(async (a) => (await import('./commands/approvals.js')).approvalsApproveCommand(a as never)),
      )
      .command(
        'deny <id>',
        'refuse a held request (403 APPROVAL_DENIED)',
        (yy) => yy.positional('id', { type: 'string', demandOption: true }).option('reason', { type: 'string', describe: 'told to the client and recorded' }),
        run(async (a) => (await import('./commands/approvals.js')).approvalsDenyCommand(a as never)),
      )
      .demandCommand(1, 'name an approvals subcommand: ls, approve or deny'),
  )
  .command('policy', 'suggest and test endpoint policies', (y) =>
    y
      .command(
        'suggest <id>',
        'print a rule list allowing exactly what a recorded session did',
        (yy) => yy.positional('id', { type: 'string', demandOption: true }).option('name', { type: 'string', describe: 'policy name in the output' }),
        run(async (a) => (await import('./commands/policy.js')).policySuggestCommand(a as never)),
      )
      .command(
        'test <request>',
        'print the decision for "METHOD PATH" under a grant\'s policy, and the rule that made it',
        (yy) =>
          json(
            yy
              .positional('request', { type: 'string', demandOption: true, describe: '"METHOD PATH" or "METHOD HOST/PATH"' })
              .option('grant', { type: 'string', demandOption: true, describe: 'grant name' })
              .option('body', { type: 'string', describe: 'JSON request body, for when: conditions' }),
          ),
        run(async (a) => (await import('./commands/policy.js')).policyTestCommand(a as never)),
      )
      .demandCommand(1, 'name a policy subcommand: suggest or test'),
  )
  .command(
    'login',
    "exchange the job's CI OIDC token for an Airlock session token; prints the proxy, key and CA variables",
    (y) =>
      y
        .option('proxy', { type: 'string', describe: 'the proxy (default $AIRLOCK_PROXY, else http://127.0.0.1:3128)' })
        .option('audience', { type: 'string', default: 'airlock', describe: 'audience to request (--github)' })
        .option('token-file', { type: 'string', describe: 'file holding the OIDC token' })
        .option('token-env', { type: 'string', describe: 'variable holding the OIDC token' })
        .option('github', { type: 'boolean', describe: 'fetch the token from GitHub Actions (ACTIONS_ID_TOKEN_REQUEST_URL/_TOKEN)' })
        .option('format', { choices: ['sh', 'github-env', 'json'], default: 'sh', describe: 'sh: export lines; github-env: append to $GITHUB_ENV; json' })
        .option('bind', { type: 'boolean', default: false, describe: 'also attribute token-less requests on this host to this job (identity.ambient: true)' })
        .option('ca-file', { type: 'string', describe: 'where to write the CA bundle (default $RUNNER_TEMP/airlock-ca.pem, else ~/.airlock/ca.pem)' })
        .option('app-key-format', {
          choices: ['hex', 'ddapp'],
          default: 'hex',
          describe: 'shape of the stand-in DD_APP_KEY: 40 hex characters, or ddapp_ and 34 letters/digits',
        }),
    run(async (a) => (await import('./commands/login.js')).loginCommand(a as LoginArgs)),
  )
  .command(
    'logout',
    'end the session token and close its recording session',
    (y) =>
      y
        .option('proxy', { type: 'string', describe: 'the proxy (default $AIRLOCK_PROXY, else http://127.0.0.1:3128)' })
        .option('token', { type: 'string', describe: 'session token (default $AIRLOCK_SESSION_TOKEN; prefer the variable: argv is visible to ps)' }),
    run(async (a) => (await import('./commands/logout.js')).logoutCommand(a as LogoutArgs)),
  )
  .command(
    'whoami',
    'which grant a token gets, or per grant the first claim that failed (a CI JWT is checked against this config; a session token asks the proxy)',
    (y) =>
      json(
        y
          .option('token-file', { type: 'string', describe: 'file holding a CI JWT or a session token' })
          .option('token-env', { type: 'string', describe: 'variable holding it (default AIRLOCK_SESSION_TOKEN)' })
          .option('proxy', { type: 'string', describe: 'the proxy, for a session token' }),
      ),
    run(async (a) => (await import('./commands/whoami.js')).whoamiCommand(a as WhoamiArgs)),
  )
  .command(
    'check-config',
    'validate the config; prints every problem with its key path and warns about grants that admit too much',
    (y) => y.option('strict', { type: 'boolean', default: false, describe: 'exit 2 on warnings too' }),
    async (args) => {
      try {
        const { checkConfigCommand } = await import('./commands/check-config.js');
        const r = checkConfigCommand(args);
        // The report is the result, on stdout either way; the exit status says whether it passed.
        process.stdout.write(`${r.text}\n`);
        process.exit(r.ok ? 0 : 2);
      } catch (err) {
        fail(err);
      }
    },
  )
  .demandCommand(1, 'name a command (airlock --help lists them)')
  .strict()
  .fail((msg, err, y) => {
    if (err) fail(err);
    y.showHelp((s: string) => process.stderr.write(`${s}\n\n`));
    process.stderr.write(`${errorLine('USAGE', msg)}\n`);
    process.exit(2);
  })
  .help()
  .parseAsync();

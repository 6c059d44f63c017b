// yargs registration for `airlock fleet …` (issue 15), kept out of cli.ts.
import type { Argv } from 'yargs';
import { grepOptions, lsFilterOptions } from './sessions-search.js';

type Run = <A>(fn: (args: A) => Promise<string | null> | string | null) => (args: A) => Promise<void>;

export function fleetCommands<T>(y: Argv<T>, run: Run): Argv<T> {
  return y
    .command(
      'ls',
      "stream the fleet's sessions from recording.sink's index, newest day first (same filters as sessions ls; --since reads only those days)",
      (yy) =>
        lsFilterOptions(yy)
          .option('json', { type: 'boolean', default: false, describe: 'one JSON index record per line' })
          .option('limit', { type: 'number', describe: 'stop after N sessions' }),
      run(async (a) => (await import('./fleet.js')).fleetLsCommand(a as never)),
    )
    .command(
      'grep',
      "stream matching exchanges of the fleet's sessions (same filters as sessions grep)",
      (yy) => grepOptions(yy),
      run(async (a) => (await import('./fleet.js')).fleetGrepCommand(a as never)),
    )
    .command(
      'export <id>',
      "write a session's HAR from the sink",
      (yy) =>
        yy
          .positional('id', { type: 'string', demandOption: true })
          .option('output', { alias: 'o', type: 'string', describe: 'file to write (default stdout)' }),
      run(async (a) => (await import('./fleet.js')).fleetExportCommand(a as never)),
    )
    .command(
      'verify <id>',
      'check a session using only the sink: its HAR, its .sig and the appliance key the .sig names (keys/<kid>.jwk), or --keys DIR',
      (yy) =>
        yy
          .positional('id', { type: 'string', demandOption: true })
          .option('keys', { type: 'string', describe: 'trust only the keys in this directory (DIR/<kid>.jwk) instead of the sink’s keys/' })
          .option('json', { type: 'boolean', default: false, describe: 'print JSON' }),
      run(async (a) => (await import('./fleet.js')).fleetVerifyCommand(a as never)),
    )
    .demandCommand(1, 'name a fleet subcommand: ls, grep, export or verify');
}

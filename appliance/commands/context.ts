import { join } from 'node:path';
import { loadConfig, type LoadedConfig } from '../config/load-config.js';
import { controlSocketPath } from '../control/socket-path.js';
import { CodedError, type ErrorCode } from '../errors.js';

export interface CommonArgs {
  config?: string | undefined;
  'state-dir'?: string | undefined;
  listen?: string | undefined;
}

/** Exit codes: 0 ok, 1 runtime failure, 2 usage or config error. */
export class CliError extends CodedError {
  readonly exitCode: number;
  constructor(code: ErrorCode, message: string, exitCode = 1) {
    super(code, message);
    this.exitCode = exitCode;
  }
}

export function load(args: CommonArgs): LoadedConfig {
  return loadConfig({ configFile: args.config, stateDir: args['state-dir'], listen: args.listen });
}

export function sessionsDir(stateDir: string): string {
  return join(stateDir, 'sessions');
}

/**
 * The running server's control socket: $AIRLOCK_CONTROL_SOCKET (for approvers, who cannot read the
 * appliance's config), else control.socket, else `<stateDir>/control.sock`.
 */
export function controlSocket(config: LoadedConfig['config'], env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env['AIRLOCK_CONTROL_SOCKET'];
  return fromEnv && fromEnv.length > 0 ? fromEnv : controlSocketPath(config);
}

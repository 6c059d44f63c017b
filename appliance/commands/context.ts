import { join } from 'node:path';
import { loadConfig, type LoadedConfig } from '../config/load-config.js';

export interface CommonArgs {
  config?: string | undefined;
  'state-dir'?: string | undefined;
  listen?: string | undefined;
}

/** Exit codes: 0 ok, 1 runtime failure, 2 usage or config error. */
export class CliError extends Error {
  readonly exitCode: number;
  readonly code: string;
  constructor(code: string, message: string, exitCode = 1) {
    super(message);
    this.code = code;
    this.exitCode = exitCode;
  }
}

export function load(args: CommonArgs): LoadedConfig {
  return loadConfig({ configFile: args.config, stateDir: args['state-dir'], listen: args.listen });
}

export function sessionsDir(stateDir: string): string {
  return join(stateDir, 'sessions');
}

export function controlSocket(stateDir: string): string {
  return join(stateDir, 'control.sock');
}

import { ConfigError } from '../config/load-config.js';
import { load, type CommonArgs } from './context.js';

/** Validates the config; every problem with its key path. */
export function checkConfigCommand(args: CommonArgs): { ok: boolean; text: string } {
  try {
    const { config, file } = load(args);
    return {
      ok: true,
      text: `${file ?? 'built-in defaults'}: ok (${config.identity.issuers.length} issuers, ${config.identity.grants.length} grants, intercepting ${[...config.intercept.datadogSites, ...config.intercept.hosts].join(', ')})`,
    };
  } catch (err) {
    if (err instanceof ConfigError) {
      return { ok: false, text: `${err.file ?? 'config'}: ${err.problems.length} problem${err.problems.length === 1 ? '' : 's'}\n${err.problems.map((p) => `  ${p.path || '(file)'}: ${p.message}`).join('\n')}` };
    }
    throw err;
  }
}

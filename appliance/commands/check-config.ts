import { ConfigError } from '../config/load-config.js';
import { load, type CommonArgs } from './context.js';
import { grantWarnings } from '../config/grant-warnings.js';

/** Validates the config; every problem with its key path. Grant warnings fail it only with --strict. */
export function checkConfigCommand(args: CommonArgs & { strict?: boolean | undefined }): { ok: boolean; text: string } {
  try {
    const { config, file } = load(args);
    const warnings = grantWarnings(config);
    const summary = `${file ?? 'built-in defaults'}: ok (${config.identity.issuers.length} issuers, ${config.identity.grants.length} grants, intercepting ${[...config.intercept.datadogSites, ...config.intercept.hosts].join(', ')})`;
    return {
      ok: warnings.length === 0 || args.strict !== true,
      text: [summary, ...warnings.map((w) => `  warning: ${w.path}: ${w.message}`)].join('\n'),
    };
  } catch (err) {
    if (err instanceof ConfigError) {
      return { ok: false, text: `${err.file ?? 'config'}: ${err.problems.length} problem${err.problems.length === 1 ? '' : 's'}\n${err.problems.map((p) => `  ${p.path || '(file)'}: ${p.message}`).join('\n')}` };
    }
    throw err;
  }
}

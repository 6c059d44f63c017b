import { ConfigError } from '../config/load-config.js';
import { load, type CommonArgs } from './context.js';
import { grantWarnings } from '../config/grant-warnings.js';

/** Validates the config; every problem with its key path. Grant warnings fail it only with --strict. */
export function checkConfigCommand(args: CommonArgs & { strict?: boolean | undefined }): { ok: boolean; text: string } {
  try {
    const { config, file } = load(args);
    const warnings = grantWarnings(config);
    const summary = `${file ?? 'built-in defaults'}: ok (${config.identity.issuers.length} issuers, ${config.identity.grants.length} grants)`;
    // What is intercepted (each entry with every host under it) and what happens to the rest:
    // a Datadog site missing here would be passthrough, so the operator sees the list.
    const interception = [
      `  intercepted Datadog sites: ${config.intercept.datadogSites.join(', ') || '(none)'}`,
      `  intercepted hosts: ${config.intercept.hosts.join(', ') || '(none)'}`,
      `  passthrough: ${config.passthrough}${config.passthrough === 'allow' ? ' (other hosts are tunnelled blind; IP literals and aliases of intercepted addresses are refused)' : ' (other hosts are refused)'}`,
    ];
    return {
      ok: warnings.length === 0 || args.strict !== true,
      text: [summary, ...interception, ...warnings.map((w) => `  warning: ${w.path}: ${w.message}`)].join('\n'),
    };
  } catch (err) {
    if (err instanceof ConfigError) {
      return { ok: false, text: `${err.file ?? 'config'}: ${err.problems.length} problem${err.problems.length === 1 ? '' : 's'}\n${err.problems.map((p) => `  ${p.path || '(file)'}: ${p.message}`).join('\n')}` };
    }
    throw err;
  }
}

import { ConfigError } from '../config/load-config.js';
import { load, type CommonArgs } from './context.js';
import { grantWarnings } from '../config/grant-warnings.js';
import { missingCredentials, startupErrors } from '../config/startup-checks.js';
import { vaultNames } from '../credentials/vault-names.js';

/**
 * Validates the config; every problem with its key path. What `serve` refuses (startup-checks.ts)
 * is an error here too. Warnings (grants that admit too much; with --state-dir, grants whose
 * credential the vault lacks) fail it only with --strict.
 */
export function checkConfigCommand(args: CommonArgs & { strict?: boolean | undefined }): { ok: boolean; text: string } {
  try {
    const { config, file } = load(args);
    const errors = startupErrors(config);
    const names = args['state-dir'] !== undefined ? vaultNames(config.stateDir) : null;
    const warnings = [
      ...grantWarnings(config),
      ...(names ? missingCredentials(config, names).map((m) => ({ path: m.slice(0, m.indexOf(':')), message: m.slice(m.indexOf(':') + 2) })) : []),
    ];
    const verdict =
      errors.length > 0
        ? `refused by serve (${errors.length} problem${errors.length === 1 ? '' : 's'})`
        : warnings.length > 0
          ? `ok, with ${warnings.length} warning${warnings.length === 1 ? '' : 's'}`
          : 'ok';
    const summary = `${file ?? 'built-in defaults'}: ${verdict} (${config.identity.issuers.length} issuers, ${config.identity.grants.length} grants)`;
    // What is intercepted (each entry with every host under it) and what happens to the rest:
    // a Datadog site missing here would be passthrough, so the operator sees the list.
    const interception = [
      `  intercepted Datadog sites: ${config.intercept.datadogSites.join(', ') || '(none)'}`,
      `  intercepted hosts: ${config.intercept.hosts.join(', ') || '(none)'}`,
      `  passthrough: ${config.passthrough}${config.passthrough === 'allow' ? ' (other hosts are tunnelled blind; IP literals and aliases of intercepted addresses are refused)' : ' (other hosts are refused)'}`,
    ];
    return {
      ok: errors.length === 0 && (warnings.length === 0 || args.strict !== true),
      text: [summary, ...interception, ...errors.map((e) => `  error: ${e}`), ...warnings.map((w) => `  warning: ${w.path}: ${w.message}`)].join('\n'),
    };
  } catch (err) {
    if (err instanceof ConfigError) {
      return {
        ok: false,
        text: `${err.file ?? 'config'}: ${err.problems.length} problem${err.problems.length === 1 ? '' : 's'}\n${err.problems.map((p) => `  ${p.path || '(file)'}: ${p.message}`).join('\n')}`,
      };
    }
    throw err;
  }
}

import { join } from 'node:path';
import { loadOrCreateCa, readCaCert } from '../../certs/ca-store.js';
import { describeCa } from '../../certs/describe-ca.js';
import { permittedDomains } from '../config/host-match.js';
import { load, type CommonArgs } from './context.js';

export async function caInitCommand(args: CommonArgs & { force?: boolean }): Promise<string> {
  const { config } = load(args);
  const dir = join(config.stateDir, 'ca');
  const { ca, created } = await loadOrCreateCa(dir, {
    permittedDomains: permittedDomains(config.intercept),
    validityMs: config.ca.validity,
    force: args.force === true,
  });
  const d = describeCa(ca.certPem);
  return [
    created ? `created ${join(dir, 'ca.crt')} (key: ${join(dir, 'ca.key')}, mode 0600)` : `kept the existing CA in ${dir} (use --force to replace it)`,
    `subject: ${d.subject}`,
    `valid: ${d.notBefore.toISOString()} .. ${d.notAfter.toISOString()}`,
    `permits: ${d.permittedDomains.join(', ')}`,
    `sha256: ${d.fingerprintSha256}`,
  ].join('\n');
}

export function caCertCommand(args: CommonArgs): string {
  const { config } = load(args);
  return readCaCert(join(config.stateDir, 'ca'));
}

// Who this appliance is, for the object metadata of its public key in the sink: the host name and
// the machine id (systemd's /etc/machine-id, distinct per VM). S3 metadata is ASCII: anything else
// is replaced.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { VERSION } from '../version.js';

function ascii(v: string): string {
  return v.replace(/[^\x20-\x7e]/g, '?').slice(0, 200);
}

export function applianceIdentity(): Record<string, string> {
  let machine: string;
  try {
    machine = readFileSync('/etc/machine-id', 'utf8').trim();
  } catch {
    machine = '';
  }
  return { host: ascii(hostname()), ...(machine ? { 'machine-id': ascii(machine) } : {}), version: ascii(VERSION) };
}

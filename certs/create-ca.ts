import { hostname } from 'node:os';
import forge from 'node-forge';
import type { CaMaterial } from './ca-material.js';
import { toPermittedDomains } from './domains.js';
import { nameConstraintsExtension } from './name-constraints.js';
import { generateRsaKey, nodeSigner, randomSerialHex } from './rsa.js';

export type { CaMaterial } from './ca-material.js';

export interface CreateCaOptions {
  /** Bare suffixes ("datadoghq.com"), exact hosts, or "*.example.com" (stored as "example.com"). */
  readonly permittedDomains: readonly string[];
  readonly validityMs: number;
  readonly now?: Date;
  readonly commonName?: string;
}

/** Room for clocks that run behind ours, on the CA and on every leaf. */
export const CLOCK_SKEW_MS = 60 * 60 * 1000;

function defaultCaCommonName(): string {
  return `Airlock CA (${hostname()})`.slice(0, 64);
}

/**
 * A fresh interception CA that can only ever vouch for the intercepted domains: critical
 * nameConstraints permit just those DNS suffixes and exclude all IP addresses, and pathlen 0
 * forbids intermediates, so a leaked key cannot impersonate any other site.
 */
export function createCa(opts: CreateCaOptions): CaMaterial {
  if (!Number.isFinite(opts.validityMs) || opts.validityMs <= 0) {
    throw new RangeError(`CA validity must be a positive number of milliseconds, got ${opts.validityMs}`);
  }
  const permitted = toPermittedDomains(opts.permittedDomains);
  const now = (opts.now ?? new Date()).getTime();
  const key = generateRsaKey();

  const cert = forge.pki.createCertificate();
  cert.publicKey = key.forgePublicKey;
  cert.serialNumber = randomSerialHex();
  cert.validity.notBefore = new Date(now - CLOCK_SKEW_MS);
  cert.validity.notAfter = new Date(now + opts.validityMs);
  const name = [
    { shortName: 'CN', value: opts.commonName ?? defaultCaCommonName() },
    { shortName: 'O', value: 'Airlock' },
  ];
  cert.setSubject(name);
  cert.setIssuer(name);
  cert.setExtensions([
    { name: 'basicConstraints', critical: true, cA: true, pathLenConstraint: 0 },
    { name: 'keyUsage', critical: true, keyCertSign: true, cRLSign: true },
    { name: 'subjectKeyIdentifier' },
    nameConstraintsExtension(permitted),
  ]);
  cert.sign(nodeSigner(key.keyObject), forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: key.pem };
}

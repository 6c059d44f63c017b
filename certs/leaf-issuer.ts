import { createSecureContext, type SecureContext } from 'node:tls';
import { parseCa, type CaMaterial, type ParsedCa } from './ca-material.js';
import { normalizeHostname } from './domains.js';
import { issueLeaf, MAX_LEAF_VALIDITY_MS } from './issue-leaf.js';
import { generateLeafKey, type LeafKey } from './leaf-key.js';

export interface LeafIssuerOptions {
  /** Epoch ms; injected by tests. */
  readonly now?: () => number;
  /** At most 30 days (the default). */
  readonly leafValidityMs?: number;
  /** Hosts kept in memory; the least recently used goes first. Default 10,000. */
  readonly maxEntries?: number;
}

export interface LeafCert {
  readonly certPem: string;
  /** The one leaf key shared by every host of this process. A secret. */
  readonly keyPem: string;
  readonly notAfter: Date;
}

interface Entry {
  readonly certPem: string;
  readonly notBefore: number;
  readonly notAfter: Date;
  readonly renewAt: number;
  context?: SecureContext;
}

/**
 * Issues and caches server certificates for intercepted hosts. One P-256 ECDSA key (leaf-key.ts:
 * its handshake signature costs Airlock a fifteenth of an RSA-2048 one), made when the issuer is
 * built, serves every leaf, so nothing generates a key on the request path; a leaf is reissued
 * once less than a third of its lifetime remains. The leaves are signed by the (RSA) CA.
 *
 * The served chain is leaf + CA certificate (clients that already trust the CA ignore the
 * extra copy; ones that log chains see which Airlock CA signed).
 */
export class LeafIssuer {
  readonly chainIncludesCa = true;
  private readonly ca: ParsedCa;
  private readonly leafKey: LeafKey;
  private readonly now: () => number;
  private readonly validityMs: number;
  private readonly maxEntries: number;
  private readonly cache = new Map<string, Entry>();

  constructor(ca: CaMaterial, opts: LeafIssuerOptions = {}) {
    const validityMs = opts.leafValidityMs ?? MAX_LEAF_VALIDITY_MS;
    if (!(validityMs > 0 && validityMs <= MAX_LEAF_VALIDITY_MS)) {
      throw new RangeError(`leaf validity must be more than 0 and at most 30 days, got ${validityMs} ms`);
    }
    const maxEntries = opts.maxEntries ?? 10_000;
    if (!(Number.isInteger(maxEntries) && maxEntries > 0)) throw new RangeError(`maxEntries must be a positive integer, got ${maxEntries}`);
    this.ca = parseCa(ca);
    this.leafKey = generateLeafKey();
    this.now = opts.now ?? Date.now;
    this.validityMs = validityMs;
    this.maxEntries = maxEntries;
  }

  /** Throws CertError HOST_NOT_PERMITTED for a host outside the CA's name constraints. */
  certFor(hostname: string): LeafCert {
    const e = this.entryFor(hostname);
    return { certPem: e.certPem, keyPem: this.leafKey.pem, notAfter: e.notAfter };
  }

  /** For SNICallback; the same object is returned until the leaf is renewed. */
  secureContextFor(hostname: string): SecureContext {
    const e = this.entryFor(hostname);
    e.context ??= createSecureContext({ key: this.leafKey.pem, cert: e.certPem + this.ca.certPem });
    return e.context;
  }

  /** Number of hosts cached. */
  get size(): number {
    return this.cache.size;
  }

  private entryFor(hostname: string): Entry {
    const host = normalizeHostname(hostname);
    const now = this.now();
    const hit = this.cache.get(host);
    if (hit) {
      this.cache.delete(host);
      if (hit.notBefore <= now && now < hit.renewAt) {
        this.cache.set(host, hit);
        return hit;
      }
    }
    const leaf = issueLeaf({ ca: this.ca, leafKey: this.leafKey, host, nowMs: now, validityMs: this.validityMs });
    const lifetime = leaf.notAfter.getTime() - leaf.notBefore.getTime();
    // Renewing a leaf the CA's expiry cut short would give the same notAfter again, so keep it
    // to the end (then issueLeaf reports CA_EXPIRED).
    const renewAt = leaf.cappedByCa ? leaf.notAfter.getTime() : leaf.notAfter.getTime() - lifetime / 3;
    const entry: Entry = { certPem: leaf.certPem, notBefore: leaf.notBefore.getTime(), notAfter: leaf.notAfter, renewAt };
    this.cache.set(host, entry);
    if (this.cache.size > this.maxEntries) {
      const oldest = this.cache.keys().next();
      if (!oldest.done) this.cache.delete(oldest.value);
    }
    return entry;
  }
}

/** An SNICallback (the engine's, and tls.createServer's in tests) answering with the issuer's cached contexts. */
export function sniCallbackFor(issuer: {
  secureContextFor(servername: string): SecureContext;
}): (servername: string, cb: (err: Error | null, ctx?: SecureContext) => void) => void {
  return (servername, cb) => {
    let ctx: SecureContext;
    try {
      ctx = issuer.secureContextFor(servername);
    } catch (err) {
      cb(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    cb(null, ctx);
  };
}

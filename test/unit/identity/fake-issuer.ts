// An in-memory issuer for unit tests: real RS256 keys, no sockets. fetchJson is a fake that
// serves discovery and JWKS from memory, counts calls and can be switched off.
import { Writable } from 'node:stream';
import { randomUUID } from 'node:crypto';
import { SignJWT, exportJWK, exportSPKI, generateKeyPair } from 'jose';
import type { CryptoKey, JWK } from 'jose';
import type { IssuerConfig } from '../../../appliance/config/schema.js';
import { createLogger, type Logger } from '../../../appliance/log.js';
import type { fetchJson } from '../../../appliance/identity/fetch-json.js';

export const ISS = 'https://token.example.test';
export const T0 = Date.UTC(2025, 0, 1, 12, 0, 0);

export interface Key {
  kid: string;
  privateKey: CryptoKey;
  jwk: JWK;
  pem: string;
}

export async function newKey(kid: string = randomUUID()): Promise<Key> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  return { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' }, pem: await exportSPKI(publicKey) };
}

export function issuerConfig(over: Partial<IssuerConfig> = {}): IssuerConfig {
  return { name: 'gh', issuer: ISS, kind: 'generic', preset: null, audience: 'airlock', jwksUri: null, algorithms: ['RS256'], ...over };
}

export class Clock {
  t = T0;
  now = (): number => this.t;
  advance(ms: number): void {
    this.t += ms;
  }
}

export class FakeIssuer {
  published: Key[] = [];
  down = false;
  calls: string[] = [];
  constructor(readonly clock: Clock) {}

  static async create(clock: Clock): Promise<FakeIssuer> {
    const f = new FakeIssuer(clock);
    f.published = [await newKey()];
    return f;
  }

  get key(): Key {
    return this.published[0]!;
  }
  get jwksFetches(): number {
    return this.calls.filter((u) => u.endsWith('/jwks')).length;
  }

  fetchJson: typeof fetchJson = async (url) => {
    this.calls.push(url);
    if (this.down) throw new Error('connect ECONNREFUSED');
    if (url === `${ISS}/.well-known/openid-configuration`) return { issuer: ISS, jwks_uri: `${ISS}/jwks` };
    if (url === `${ISS}/jwks`) return { keys: this.published.map((k) => k.jwk) };
    throw new Error(`unexpected URL ${url}`);
  };

  claims(over: Record<string, unknown> = {}): Record<string, unknown> {
    const now = Math.floor(this.clock.t / 1000);
    return {
      iss: ISS,
      aud: 'airlock',
      sub: 'repo:acme/app:ref:refs/heads/main',
      repository: 'acme/app',
      repository_id: '123456',
      ref: 'refs/heads/main',
      run_id: '1001',
      run_attempt: '1',
      iat: now,
      exp: now + 300,
      jti: randomUUID(),
      ...over,
    };
  }

  async mint(over: Record<string, unknown> = {}, key: Key = this.key, omit: string[] = []): Promise<string> {
    const payload = this.claims(over);
    for (const c of omit) delete payload[c];
    return new SignJWT(payload).setProtectedHeader({ alg: 'RS256', kid: key.kid }).sign(key.privateKey);
  }
}

export function captureLog(): { log: Logger; lines: () => string[] } {
  const out: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      out.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      cb();
    },
  });
  return { log: createLogger({ level: 'debug', destination }), lines: () => out };
}

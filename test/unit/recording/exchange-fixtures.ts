// Realistic exchanges for recording tests (shared with test/integration/har-devtools.test.ts).
import { Writable } from 'node:stream';
import zlib from 'node:zlib';
import { createLogger, type Logger } from '../../../appliance/log.js';
import type { Identity } from '../../../appliance/identity/types.js';
import type { CapturedBody, Exchange, HeaderPair, Secret } from '../../../appliance/lib/exchange-types.js';

export const VAULT_KEY = '0123456789abcdef0123456789abcdef';
export const AGENT_KEY = 'fedcba9876543210fedcba9876543210';
export const APP_KEY = 'aaaabbbbccccddddeeeeffff0000111122223333';
export const TOKEN = 'eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJzdWIiOiJyZXBvOmFjbWUvd2ViIiwicnVuX2lkIjoiNDIifQ.c2lnbmF0dXJlLXRoYXQtbXVzdC1uZXZlci1iZS13cml0dGVu';
export const TOKEN_SIGNATURE = 'c2lnbmF0dXJlLXRoYXQtbXVzdC1uZXZlci1iZS13cml0dGVu';

export const SECRETS: readonly Secret[] = [
  { value: VAULT_KEY, label: 'vault:ci-metrics' },
  { value: AGENT_KEY, label: 'agent dd-api-key' },
  { value: APP_KEY, label: 'vault:ci-metrics app key' },
  { value: TOKEN, label: 'token' },
];

export function identity(over: Partial<Identity> = {}): Identity {
  return {
    issuer: 'github',
    iss: 'https://token.actions.githubusercontent.com',
    sub: 'repo:acme/web:ref:refs/heads/main',
    claims: { sub: 'repo:acme/web:ref:refs/heads/main', run_id: '42', run_attempt: '1', exp: 1, iat: 0, nbf: 0, jti: 'j', repository: 'acme/web' },
    grant: 'ci-metrics',
    credential: 'dd-ci',
    expiresAt: Date.now() + 600_000,
    ...over,
  };
}

export function body(bytes: Buffer | string, opts: { size?: number; truncated?: boolean } = {}): CapturedBody {
  const b = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
  return { size: opts.size ?? b.length, bytes: b, truncated: opts.truncated ?? false };
}

const timings = { blocked: 0.5, dns: -1, connect: 12, ssl: 8, send: 0.2, wait: 30.5, receive: 1.3 };

export function exchange(over: {
  id?: string;
  method?: string;
  url?: string;
  reqHeaders?: HeaderPair[];
  reqBody?: CapturedBody | null;
  response?: Exchange['response'];
  error?: string;
}): Exchange {
  return {
    id: over.id ?? 'x1',
    startedDateTime: '2026-11-22T03:15:00.123Z',
    request: {
      method: over.method ?? 'POST',
      url: over.url ?? 'https://api.datadoghq.com/api/v2/series',
      httpVersion: 'HTTP/1.1',
      headers: over.reqHeaders ?? [
        ['Host', 'api.datadoghq.com'],
        ['Content-Type', 'application/json'],
        ['DD-API-KEY', VAULT_KEY],
      ],
      body: over.reqBody === undefined ? body('{"series":[{"metric":"ci.build","points":[[1,2]]}]}') : over.reqBody,
    },
    response:
      over.response === undefined
        ? { status: 202, statusText: 'Accepted', httpVersion: 'HTTP/1.1', headers: [['Content-Type', 'application/json']], body: body('{"errors":[]}') }
        : over.response,
    ...(over.error !== undefined ? { error: over.error } : {}),
    timings,
    serverIPAddress: '127.0.0.1',
    connection: '443',
    airlock: { decision: 'forwarded', grant: 'ci-metrics', credential: 'dd-ci', stripped: ['header:dd-api-key'], injected: ['header:dd-api-key'] },
  };
}

export function gzipResponse(json: string): NonNullable<Exchange['response']> {
  const gz = zlib.gzipSync(Buffer.from(json));
  return {
    status: 200,
    statusText: 'OK',
    httpVersion: 'HTTP/1.1',
    headers: [
      ['Content-Type', 'application/json'],
      ['Content-Encoding', 'gzip'],
    ],
    body: body(gz),
  };
}

/** A logger that keeps its lines, so tests can check that no secret was logged. */
export function memoryLogger(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString('utf8'));
      cb();
    },
  });
  return { log: createLogger({ level: 'debug', destination }), lines };
}

export function secretValuesIn(text: string): string[] {
  return [VAULT_KEY, AGENT_KEY, APP_KEY, TOKEN, TOKEN_SIGNATURE].filter((s) => text.includes(s));
}

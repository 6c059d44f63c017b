import { createRequire } from 'node:module';
import { pino, type Logger, type LoggerOptions } from 'pino';
import { batchedStdout } from './log-batch.js';
import { prepareSecrets, redactRequestText } from './secrets/redact.js';
import type { Secret } from './lib/exchange-types.js';
import { LOG_REDACT_PATHS } from './secrets/credential-name.js';

export type { Logger };

// A whole JWT, signature or not (a log line has no use for its claims), and an `airlock login`
// session token (identity/session-token.ts).
const JWT = /eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]*)?/g;
const SESSION_TOKEN = /alk_[A-Za-z0-9_-]{43}/g;

/**
 * A URL, path or host from the agent's request, made fit for a log field: known secrets, any
 * JWT, session token or Datadog-key-shaped value are replaced. Log fields are redacted here, at
 * the source, not by pino redact paths (those cost CPU on every line; see docs/benchmarks.md).
 */
export function redactForLog(text: string, secrets: readonly Secret[] = []): string {
  let out = text;
  if (out.includes('eyJ')) out = out.replace(JWT, '[redacted:jwt]');
  if (out.includes('alk_')) out = out.replace(SESSION_TOKEN, '[redacted:session token]');
  return redactRequestText(out, prepareSecrets(secrets));
}

export type LogFormat = 'json' | 'pretty';

export interface LogOptions {
  level?: string;
  destination?: NodeJS.WritableStream;
  /** json (the default: pino's lines, for machines) or pretty (pino-pretty, for a person at a terminal). */
  format?: LogFormat;
}

/**
 * pino-pretty in this process (no worker thread), loaded only when asked for: JSON is the
 * default and most commands never log. Redaction has happened before a line reaches it.
 */
function prettyStream(destination: NodeJS.WritableStream | undefined): pino.DestinationStream {
  const build = createRequire(import.meta.url)('pino-pretty') as (o: Record<string, unknown>) => pino.DestinationStream;
  const out = destination ?? process.stdout;
  return build({
    destination: out,
    colorize: (out as { isTTY?: boolean }).isTTY === true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,name',
    sync: true,
  });
}

export function createLogger(options: LogOptions = {}): Logger {
  const opts: LoggerOptions = {
    level: options.level ?? process.env['AIRLOCK_LOG_LEVEL'] ?? 'info',
    base: { name: 'airlock' },
    // Values are redacted at the source (no log call passes a header set, a token or a key); these
    // paths are the net under it.
    redact: { paths: [...LOG_REDACT_PATHS], censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  if (options.format === 'pretty') return pino(opts, prettyStream(options.destination));
  if (options.destination) return pino(opts, options.destination as pino.DestinationStream);
  // Asynchronous stdout, written in batches (log-batch.ts): one canonical line per request must
  // cost neither a blocking write nor a write of its own. Pending lines are written out when the
  // process exits.
  return pino(opts, batchedStdout());
}

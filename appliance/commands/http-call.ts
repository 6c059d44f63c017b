import { directRequest, DirectRequestError, type DirectReply } from '../lib/direct-request.js';
import type { Dispatcher } from 'undici';
import { CodedError } from '../errors.js';

export interface HttpReply {
  readonly status: number;
  readonly headers: DirectReply['headers'];
  readonly body: string;
}

export interface HttpCallOptions {
  readonly method?: Dispatcher.HttpMethod;
  readonly headers?: Record<string, string>;
  readonly body?: string;
  readonly timeoutMs?: number;
  readonly maxBytes?: number;
}

class HttpCallError extends CodedError<'UNREACHABLE'> {
  constructor(message: string) {
    super('UNREACHABLE', message);
  }
}

/** One HTTP(S) request with a deadline and a body cap; never through a proxy. */
export async function httpCall(url: string, o: HttpCallOptions = {}): Promise<HttpReply> {
  const u = new URL(url);
  const timeoutMs = o.timeoutMs ?? 15_000;
  const maxBytes = o.maxBytes ?? 1_048_576;
  const where = `${u.protocol}//${u.host}${u.pathname}`;
  try {
    const r = await directRequest(u.href, {
      method: o.method ?? 'GET',
      headers: { 'user-agent': 'airlock-cli', ...o.headers },
      ...(o.body !== undefined ? { body: o.body } : {}),
      timeoutMs,
      maxBytes,
    });
    return { status: r.status, headers: r.headers, body: r.body.toString('utf8') };
  } catch (err) {
    const kind = err instanceof DirectRequestError ? err.kind : 'network';
    if (kind === 'timeout') throw new HttpCallError(`${where} did not answer within ${timeoutMs} ms`);
    if (kind === 'too-large') throw new HttpCallError(`${where} answered more than ${maxBytes} bytes`);
    throw new HttpCallError(`cannot reach ${where}: ${(err as Error).message}`);
  }
}

/** Airlock's refusal text from an error body (`{"errors":["airlock: ..."]}`), else the raw body. */
export function airlockMessage(r: HttpReply): string {
  try {
    const v = JSON.parse(r.body) as { errors?: unknown };
    if (Array.isArray(v.errors) && typeof v.errors[0] === 'string') return v.errors[0];
  } catch {
    /* not JSON */
  }
  return r.body.slice(0, 500) || `HTTP ${r.status}`;
}

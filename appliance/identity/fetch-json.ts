import { directRequest, DirectRequestError } from '../lib/direct-request.js';

export interface FetchJsonOptions {
  /** Whole-request deadline (connect, headers and body), ms. */
  timeoutMs?: number;
  /** Largest body accepted, bytes. */
  maxBytes?: number;
  /** Extra trust anchors (PEM) for a private issuer; verification itself is never switched off. */
  ca?: string;
}

export class FetchJsonError extends Error {
  /** The HTTP status when the server answered, else undefined (network, timeout, size, JSON). */
  readonly status: number | undefined;
  constructor(message: string, status?: number, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'FetchJsonError';
    this.status = status;
  }
}

/** GET a JSON document directly (no proxy), with a deadline and a body cap. Redirects are not followed. */
export async function fetchJson(url: string, opts: FetchJsonOptions = {}): Promise<unknown> {
  const timeoutMs = opts.timeoutMs ?? 5_000;
  const maxBytes = opts.maxBytes ?? 1_048_576;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new FetchJsonError('not a valid URL');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new FetchJsonError(`unsupported protocol ${u.protocol}`);
  const where = `${u.protocol}//${u.host}${u.pathname}`;

  let r;
  try {
    r = await directRequest(u.href, {
      headers: { accept: 'application/json', 'user-agent': 'airlock' },
      timeoutMs,
      maxBytes,
      ...(opts.ca !== undefined ? { ca: opts.ca } : {}),
    });
  } catch (err) {
    const kind = err instanceof DirectRequestError ? err.kind : 'network';
    if (kind === 'timeout') throw new FetchJsonError(`timed out after ${timeoutMs} ms fetching ${where}`, undefined, { cause: err });
    if (kind === 'too-large') throw new FetchJsonError(`${where} body exceeds ${maxBytes} bytes`, undefined, { cause: err });
    throw new FetchJsonError(`cannot fetch ${where}: ${(err as Error).message}`, undefined, { cause: err });
  }
  if (r.status < 200 || r.status > 299) throw new FetchJsonError(`${where} answered HTTP ${r.status}`, r.status);
  try {
    return JSON.parse(r.body.toString('utf8')) as unknown;
  } catch {
    throw new FetchJsonError(`${where} did not answer JSON`, r.status);
  }
}

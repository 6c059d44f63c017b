// One HTTP(S) or unix-socket request with a whole-request deadline and a body cap, never through a
// proxy: the identity key fetches, the CLI's calls to the listener and the id-token endpoint, the
// control socket and the approval webhook all need exactly this.
import { Agent, errors, request, type Dispatcher } from 'undici';

export interface DirectRequestOptions {
  readonly method?: Dispatcher.HttpMethod;
  readonly headers?: Record<string, string>;
  readonly body?: string;
  /** Whole-request deadline (connect, headers and body), ms. */
  readonly timeoutMs: number;
  /** Largest body accepted, bytes (a larger Content-Length is refused before reading). */
  readonly maxBytes: number;
  /** Extra trust anchors (PEM) replacing the default roots; verification itself is never switched off. */
  readonly ca?: string;
  /** Connect to this unix socket instead of the URL's host. */
  readonly socketPath?: string;
}

export interface DirectReply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
}

export type DirectFailure = 'timeout' | 'too-large' | 'network';

export class DirectRequestError extends Error {
  readonly kind: DirectFailure;
  /** The socket error's code (ECONNREFUSED, ENOENT, ...) when there is one. */
  readonly code: string | undefined;
  constructor(kind: DirectFailure, message: string, code?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DirectRequestError';
    this.kind = kind;
    this.code = code;
  }
}

/** Redirects are not followed; any status is a reply (the caller judges it). */
export async function directRequest(url: string, o: DirectRequestOptions): Promise<DirectReply> {
  // An agent of our own per call, not the global dispatcher: that one may follow HTTP(S)_PROXY, which
  // after `airlock login` (or in the appliance's env) points at Airlock itself. No keep-alive either.
  const dispatcher = new Agent({
    maxResponseSize: o.maxBytes,
    headersTimeout: o.timeoutMs,
    bodyTimeout: o.timeoutMs,
    connect: { rejectUnauthorized: true, ...(o.ca !== undefined ? { ca: o.ca } : {}), ...(o.socketPath !== undefined ? { socketPath: o.socketPath } : {}) },
  });
  const signal = AbortSignal.timeout(o.timeoutMs);
  try {
    const res = await request(url, {
      dispatcher,
      method: o.method ?? 'GET',
      ...(o.headers !== undefined ? { headers: o.headers } : {}),
      ...(o.body !== undefined ? { body: o.body } : {}),
      signal,
    });
    const body = Buffer.from(await res.body.arrayBuffer());
    return { status: res.statusCode, headers: res.headers, body };
  } catch (err) {
    if (signal.aborted || err instanceof errors.HeadersTimeoutError || err instanceof errors.BodyTimeoutError || err instanceof errors.ConnectTimeoutError) {
      throw new DirectRequestError('timeout', `no answer within ${o.timeoutMs} ms`, undefined, { cause: err });
    }
    if (err instanceof errors.ResponseExceededMaxSizeError) {
      throw new DirectRequestError('too-large', `body exceeds ${o.maxBytes} bytes`, undefined, { cause: err });
    }
    const e = err as { message?: unknown; code?: unknown };
    throw new DirectRequestError('network', String(e.message ?? err), typeof e.code === 'string' ? e.code : undefined, { cause: err });
  } finally {
    void dispatcher.destroy().catch(() => undefined);
  }
}

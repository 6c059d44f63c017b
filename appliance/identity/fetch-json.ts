import http from 'node:http';
import https from 'node:https';

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

// Our own agents: Node's global agent may honour HTTP(S)_PROXY (NODE_USE_ENV_PROXY in 22.21+/24),
// and the appliance's env may point at Airlock itself; key fetches must go straight out.
const httpAgent = new http.Agent({ keepAlive: false });
const httpsAgent = new https.Agent({ keepAlive: false });

/** GET a JSON document directly (no proxy), with a deadline and a body cap. Redirects are not followed. */
export function fetchJson(url: string, opts: FetchJsonOptions = {}): Promise<unknown> {
  const timeoutMs = opts.timeoutMs ?? 5_000;
  const maxBytes = opts.maxBytes ?? 1_048_576;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return Promise.reject(new FetchJsonError('not a valid URL'));
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    return Promise.reject(new FetchJsonError(`unsupported protocol ${u.protocol}`));
  }
  const where = `${u.protocol}//${u.host}${u.pathname}`;

  return new Promise<unknown>((resolve, reject) => {
    let settled = false;
    const fail = (err: FetchJsonError): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      reject(err);
    };
    const headers = { accept: 'application/json', 'user-agent': 'airlock' };
    const req =
      u.protocol === 'https:'
        ? https.request(u, {
            method: 'GET',
            headers,
            agent: httpsAgent,
            rejectUnauthorized: true,
            ...(opts.ca !== undefined ? { ca: opts.ca } : {}),
          })
        : http.request(u, { method: 'GET', headers, agent: httpAgent });
    const timer = setTimeout(() => fail(new FetchJsonError(`timed out after ${timeoutMs} ms fetching ${where}`)), timeoutMs);
    timer.unref();

    req.on('error', (err) => fail(new FetchJsonError(`cannot fetch ${where}: ${err.message}`, undefined, { cause: err })));
    req.on('response', (res) => {
      const status = res.statusCode ?? 0;
      if (status < 200 || status > 299) {
        res.resume();
        fail(new FetchJsonError(`${where} answered HTTP ${status}`, status));
        return;
      }
      const declared = Number(res.headers['content-length']);
      if (Number.isFinite(declared) && declared > maxBytes) {
        fail(new FetchJsonError(`${where} body exceeds ${maxBytes} bytes`, status));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBytes) {
          fail(new FetchJsonError(`${where} body exceeds ${maxBytes} bytes`, status));
          return;
        }
        chunks.push(chunk);
      });
      res.on('error', (err) => fail(new FetchJsonError(`cannot read ${where}: ${err.message}`, status, { cause: err })));
      res.on('end', () => {
        if (settled) return;
        let body: unknown;
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          fail(new FetchJsonError(`${where} did not answer JSON`, status));
          return;
        }
        settled = true;
        clearTimeout(timer);
        resolve(body);
      });
    });
    req.end();
  });
}

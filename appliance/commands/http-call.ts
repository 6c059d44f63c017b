import http from 'node:http';
import https from 'node:https';

export interface HttpReply {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

export interface HttpCallOptions {
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
  readonly timeoutMs?: number;
  readonly maxBytes?: number;
}

// Own agents: with NODE_USE_ENV_PROXY (Node 22.21+/24) the global agent may follow HTTPS_PROXY,
// which after `airlock login` points at Airlock; these calls go straight to their target.
const httpAgent = new http.Agent({ keepAlive: false });
const httpsAgent = new https.Agent({ keepAlive: false });

export class HttpCallError extends Error {
  readonly code = 'UNREACHABLE';
}

/** One HTTP(S) request with a deadline and a body cap; never through a proxy. */
export function httpCall(url: string, o: HttpCallOptions = {}): Promise<HttpReply> {
  const u = new URL(url);
  const timeoutMs = o.timeoutMs ?? 15_000;
  const maxBytes = o.maxBytes ?? 1_048_576;
  const where = `${u.protocol}//${u.host}${u.pathname}`;
  return new Promise((resolve, reject) => {
    const opts = { method: o.method ?? 'GET', headers: { 'user-agent': 'airlock-cli', ...o.headers }, timeout: timeoutMs };
    const req = u.protocol === 'https:' ? https.request(u, { ...opts, agent: httpsAgent }) : http.request(u, { ...opts, agent: httpAgent });
    const timer = setTimeout(() => req.destroy(new HttpCallError(`${where} did not answer within ${timeoutMs} ms`)), timeoutMs);
    timer.unref();
    req.on('timeout', () => req.destroy(new HttpCallError(`${where} did not answer within ${timeoutMs} ms`)));
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err instanceof HttpCallError ? err : new HttpCallError(`cannot reach ${where}: ${err.message}`));
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > maxBytes) req.destroy(new HttpCallError(`${where} answered more than ${maxBytes} bytes`));
        else chunks.push(c);
      });
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') });
      });
    });
    req.end(o.body);
  });
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

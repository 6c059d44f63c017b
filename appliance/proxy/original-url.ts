import type http from 'node:http';

const ORIGINAL_URL = Symbol('airlock.originalUrl');

/** http-mitm-proxy rewrites absolute-form URLs to paths; the engine keeps the original here. */
export function rememberOriginalUrl(req: http.IncomingMessage): void {
  (req as unknown as Record<symbol, string>)[ORIGINAL_URL] = req.url ?? '/';
}

export function originalUrl(req: http.IncomingMessage): string {
  return (req as unknown as Record<symbol, string | undefined>)[ORIGINAL_URL] ?? req.url ?? '/';
}

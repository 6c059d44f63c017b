// Before `serve` writes anything (CA, signing key, vault seed, session files), check that its
// listeners can bind: a busy port or a bad address must fail a first start with nothing created.
// The probe closes at once and the real listener binds moments later.
import net from 'node:net';
import type { Config } from '../config/schema.js';
import { CodedError } from '../errors.js';

class ListenError extends CodedError<'LISTEN_FAILED'> {
  constructor(message: string) {
    super('LISTEN_FAILED', message);
  }
}

function probe(host: string, port: number, what: string): Promise<void> {
  if (port === 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', (err: NodeJS.ErrnoException) => {
      const why =
        err.code === 'EADDRINUSE'
          ? 'the address is in use (another airlock serve?)'
          : err.code === 'EACCES'
            ? 'permission denied (ports below 1024 need CAP_NET_BIND_SERVICE)'
            : err.code === 'EADDRNOTAVAIL'
              ? 'no such local address'
              : (err.code ?? err.message);
      reject(new ListenError(`cannot listen on ${host.includes(':') ? `[${host}]` : host}:${port} (${what}): ${why}; nothing was created`));
    });
    s.listen({ host, port, exclusive: true }, () => s.close(() => resolve()));
  });
}

export async function preflightListen(config: Config): Promise<void> {
  await probe(config.listen.host, config.listen.port, '--listen / listen');
  const t = config.transparent.listen;
  if (t) await probe(t.host, t.port, 'transparent.listen');
  // The admin listener too: bound last, after the CA and state exist, a busy port there only gave
  // a warning and a server without /metrics, /healthz or /readyz. admin.listen: null turns it off.
  const a = config.admin.listen;
  if (a) await probe(a.host, a.port, 'admin.listen');
}

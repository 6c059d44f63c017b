import net, { type Socket } from 'node:net';
import type { Logger } from '../log.js';
import { readClientHello } from './client-hello.js';
import type { Limits } from '../lib/limits.js';

const MAX_HELLO_BYTES = 16 * 1024 + 5;
const HELLO_TIMEOUT_MS = 10_000;

export interface TransparentOptions {
  readonly host: string;
  readonly port: number;
  readonly log: Logger;
  readonly idleMs: number;
  /** Shared with the proxy listener: limits.maxConnections counts both. */
  readonly limits: Limits;
  /** Called once the ClientHello is in hand; `head` holds every byte read so far. */
  readonly onHello: (socket: Socket, head: Buffer, servername: string) => void;
}

/**
 * The listener the nat rule redirects the runner user's outbound 443 to. It reads the
 * ClientHello's SNI without consuming it, then the connection is handled as if it were a
 * CONNECT to SNI:443. No SNI, or not TLS: closed (there is no way to answer in HTTP here).
 */
export function startTransparentListener(opts: TransparentOptions): Promise<net.Server> {
  const server = net.createServer((socket) => {
    if (!opts.limits.openConnection(socket)) {
      // No HTTP exists yet on this connection (it is TLS to the real host): closing is the answer.
      opts.log.warn({ code: 'CONNECTION_LIMIT', open: opts.limits.openConnections }, 'transparent connection refused: limits.maxConnections reached');
      socket.destroy();
      return;
    }
    socket.setTimeout(HELLO_TIMEOUT_MS, () => socket.destroy());
    socket.on('error', () => socket.destroy());
    let buf = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      buf = Buffer.concat([buf, chunk]);
      const r = readClientHello(buf);
      if (r.kind === 'incomplete' && buf.length < MAX_HELLO_BYTES) return;
      socket.off('data', onData);
      socket.pause();
      if (r.kind !== 'hello' || !r.servername) {
        opts.log.info({ decision: 'refused', reason: r.kind === 'hello' ? 'no SNI' : 'not a TLS ClientHello' }, 'transparent connection refused');
        socket.destroy();
        return;
      }
      socket.setTimeout(opts.idleMs, () => socket.destroy());
      opts.onHello(socket, buf, r.servername);
    };
    socket.on('data', onData);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: opts.host, port: opts.port }, () => {
      server.off('error', reject);
      server.on('error', (err) => opts.log.error({ err }, 'transparent listener error'));
      resolve(server);
    });
  });
}

import net, { type Socket } from 'node:net';
import type { Logger } from '../log.js';
import type { Destination } from './resolve-destination.js';
import { AirlockError } from '../errors.js';
import { refuseConnect } from '../lib/respond-error.js';

/** Opens the tunnel's upstream TCP connection; injected by tests so no real address is dialled. */
export type Dial = (to: { host: string; port: number; family: 4 | 6 }) => Socket;

const defaultDial: Dial = (to) => net.connect(to);

/** A blind TCP tunnel for a CONNECT to a host Airlock does not intercept. */
export function tunnel(
  client: Socket,
  head: Buffer,
  dest: Destination,
  idleMs: number,
  log: Logger,
  opts: { announce?: boolean; dial?: Dial | undefined } = {},
): void {
  // A CONNECT is answered with 200 first; a transparently redirected socket expects nothing.
  const announce = opts.announce ?? true;
  const upstream = (opts.dial ?? defaultDial)({ host: dest.address, port: dest.port, family: dest.family });
  upstream.setTimeout(idleMs, () => upstream.destroy());
  const onEarlyError = (err: NodeJS.ErrnoException): void => {
    log.info({ host: dest.host, code: err.code }, 'tunnel upstream unreachable');
    if (announce) refuseConnect(client, new AirlockError('UPSTREAM_UNREACHABLE', `${dest.host}: ${err.code ?? 'connect failed'}`));
    else client.destroy();
  };
  upstream.once('error', onEarlyError);
  upstream.once('connect', () => {
    upstream.off('error', onEarlyError);
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
    if (announce) client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head.length > 0) upstream.write(head);
    client.pipe(upstream);
    upstream.pipe(client);
    client.once('close', () => upstream.destroy());
    upstream.once('close', () => client.destroy());
  });
}

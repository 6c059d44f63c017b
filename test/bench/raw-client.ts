// A client that does what curl does: a new TCP connection, CONNECT through the proxy, a TLS
// handshake, one HTTP/1.1 request, then close. Also used to open idle keep-alive connections.
import net from 'node:net';
import tls from 'node:tls';

/** How a client reaches the upstream: straight to it, or through an HTTP proxy with CONNECT. */
export type Route =
  { readonly kind: 'direct'; readonly port: number } | { readonly kind: 'proxy'; readonly port: number; readonly proxyAuthorization?: string | undefined };

export interface OneShot {
  readonly host: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  /** PEM the client trusts for the TLS it speaks (the proxy's CA, or the upstream's when direct). */
  readonly ca: string;
}

export interface OneShotResult {
  readonly ms: number;
  readonly status: number;
  /** The open connection, when keepOpen was asked for. */
  readonly socket?: tls.TLSSocket;
}

function readHead(socket: net.Socket, onHead: (head: string, rest: Buffer) => void, onError: (e: Error) => void): void {
  let buf = Buffer.alloc(0);
  const onData = (d: Buffer): void => {
    buf = Buffer.concat([buf, d]);
    const i = buf.indexOf('\r\n\r\n');
    if (i < 0) return;
    socket.off('data', onData);
    socket.off('error', onError);
    socket.off('end', onEnd);
    const rest = buf.subarray(i + 4);
    onHead(buf.subarray(0, i).toString('latin1'), rest);
  };
  const onEnd = (): void => onError(new Error('connection closed before a response head'));
  socket.on('data', onData);
  socket.once('error', onError);
  socket.once('end', onEnd);
}

/** Sends one request on a fresh connection; resolves once the whole body has arrived. */
export function oneShot(route: Route, req: OneShot, keepOpen = false, timeoutMs = 30_000): Promise<OneShotResult> {
  const t0 = performance.now();
  return new Promise<OneShotResult>((resolve, reject) => {
    let done = false;
    const sockets: net.Socket[] = [];
    const fail = (e: Error): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      for (const s of sockets) s.destroy();
      reject(e);
    };
    const timer = setTimeout(() => fail(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
    const tcp = net.connect({ host: '127.0.0.1', port: route.port, noDelay: true });
    sockets.push(tcp);
    tcp.once('error', fail);

    const speakTls = (): void => {
      tcp.off('error', fail);
      tcp.on('error', () => undefined);
      const s = tls.connect({ socket: tcp, servername: req.host, ca: req.ca, ALPNProtocols: ['http/1.1'] });
      sockets.push(s);
      s.once('error', fail);
      s.once('secureConnect', () => {
        s.off('error', fail);
        const lines = [`GET ${req.path} HTTP/1.1`, `Host: ${req.host}`, ...Object.entries(req.headers).map(([k, v]) => `${k}: ${v}`), '', ''];
        s.write(lines.join('\r\n'));
        readHead(
          s,
          (head, rest) => {
            const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0);
            const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? NaN);
            let got = rest.length;
            const finish = (): void => {
              if (done) return;
              done = true;
              clearTimeout(timer);
              s.off('data', onBody);
              const ms = performance.now() - t0;
              if (keepOpen) {
                s.on('error', () => undefined);
                resolve({ ms, status, socket: s });
              } else {
                s.destroy();
                resolve({ ms, status });
              }
            };
            const onBody = (d: Buffer): void => {
              got += d.length;
              if (got >= length) finish();
            };
            if (!Number.isFinite(length)) return fail(new Error(`no content-length in the response: ${head.split('\r\n')[0]}`));
            if (got >= length) return finish();
            s.on('data', onBody);
            s.once('error', fail);
            s.once('end', () => (got >= length ? finish() : fail(new Error('connection closed mid-body'))));
          },
          fail,
        );
      });
    };

    tcp.once('connect', () => {
      if (route.kind === 'direct') return speakTls();
      const auth = route.proxyAuthorization ? `Proxy-Authorization: ${route.proxyAuthorization}\r\n` : '';
      tcp.write(`CONNECT ${req.host}:443 HTTP/1.1\r\nHost: ${req.host}:443\r\n${auth}\r\n`);
      readHead(
        tcp,
        (head, rest) => {
          if (!/^HTTP\/1\.[01] 200/.test(head)) return fail(new Error(`CONNECT refused: ${head.split('\r\n')[0]}`));
          if (rest.length > 0) tcp.unshift(rest);
          speakTls();
        },
        fail,
      );
    });
  });
}

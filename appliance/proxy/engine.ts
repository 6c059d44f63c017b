// The only module that touches http-mitm-proxy. We keep its CONNECT dispatch, its request
// context plumbing and its connectRequests bookkeeping, and replace the parts the field notes
// warn about: no per-host HTTPS servers and no internal listening port (the client's socket is
// handed straight to one in-process SNI TLS server), no CA files written by the library, no
// console output, no WebSocket bypass of the request pipeline, and timeouts on every socket.
import http from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import type tls from 'node:tls';
import { Proxy as MitmProxy, type IContext } from 'http-mitm-proxy';
import type { Logger } from '../log.js';
import { rememberOriginalUrl } from './original-url.js';

export interface EngineTimeouts {
  /** Time allowed for a client to send request headers. */
  readonly headersMs: number;
  /** Idle time on a client connection (between and during requests) before it is closed. */
  readonly idleMs: number;
  /** Upper bound for one whole request (upload) from a client. */
  readonly requestMs: number;
}

export interface EngineHandlers {
  /**
   * Called for every CONNECT. Resolve to true to have the connection intercepted (TLS terminated
   * here, requests passed to onRequest). Resolve to false when the handler dealt with the socket
   * itself (a blind tunnel or a refusal).
   */
  onConnect(req: http.IncomingMessage, socket: Socket, head: Buffer): Promise<boolean>;
  /** Every HTTP request: plain ones on the listener, and those inside intercepted TLS. */
  onRequest(req: http.IncomingMessage, res: http.ServerResponse, connect: http.IncomingMessage | undefined): void;
  /** SNI: the certificate for a hostname, or an error to abort the handshake. */
  secureContextFor(servername: string): tls.SecureContext;
}

export interface EngineOptions {
  readonly host: string;
  readonly port: number;
  readonly timeouts: EngineTimeouts;
  readonly log: Logger;
  readonly handlers: EngineHandlers;
}

function applyTimeouts(server: http.Server, t: EngineTimeouts): void {
  server.headersTimeout = t.headersMs;
  server.requestTimeout = t.requestMs;
  server.keepAliveTimeout = t.idleMs;
  server.timeout = t.idleMs;
}

export class Engine extends MitmProxy {
  private readonly opts: EngineOptions;
  private tlsServer: https.Server | undefined;
  private readonly sockets = new Set<Duplex>();

  constructor(opts: EngineOptions) {
    super();
    this.opts = opts;
  }

  /** Listens; resolves with the bound address. */
  start(): Promise<{ host: string; port: number }> {
    const { handlers, log, timeouts } = this.opts;

    const tlsServer = https.createServer({
      minVersion: 'TLSv1.2',
      SNICallback: (servername, cb) => {
        try {
          cb(null, handlers.secureContextFor(servername));
        } catch (err) {
          cb(err as Error);
        }
      },
    });
    applyTimeouts(tlsServer, timeouts);
    tlsServer.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => this._onHttpServerRequest(true, req, res));
    tlsServer.on('tlsClientError', (err, socket) => {
      // Most often a client that does not trust our CA: say so, it is the first thing to check.
      log.warn({ err: { message: err.message, code: (err as NodeJS.ErrnoException).code } }, 'TLS handshake with client failed (does the client trust the Airlock CA?)');
      socket.destroy();
    });
    tlsServer.on('clientError', (err, socket) => this.answerClientError(err, socket));
    this.tlsServer = tlsServer;

    const httpServer = http.createServer();
    applyTimeouts(httpServer, timeouts);
    httpServer.on('connect', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => this._onHttpServerConnect(req, socket, head));
    httpServer.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => this._onHttpServerRequest(false, req, res));
    httpServer.on('clientError', (err, socket) => this.answerClientError(err, socket));
    httpServer.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    this.httpServer = httpServer;
    this.httpHost = this.opts.host;
    // listen() would set these (and generate a CA on disk); the library's code paths read them.
    this.options = { host: this.opts.host, port: this.opts.port, keepAlive: true };
    this.keepAlive = true;
    this.timeout = timeouts.idleMs;

    this.onConnect((req, rawSocket, head, callback) => {
      const socket = rawSocket as Socket;
      // CONNECT sockets leave the HTTP server's timeout handling: give them our own.
      socket.setTimeout(timeouts.idleMs, () => socket.destroy());
      handlers.onConnect(req, socket, Buffer.isBuffer(head) ? head : Buffer.alloc(0)).then(
        (intercept) => {
          if (intercept) callback();
        },
        (err: unknown) => {
          log.error({ err }, 'CONNECT handler failed');
          socket.destroy();
        },
      );
    });
    this.onRequest((ctx: IContext) => {
      // The pipeline owns the exchange from here; the library's own forwarding never runs.
      const connect = (ctx as unknown as { connectRequest?: http.IncomingMessage }).connectRequest;
      handlers.onRequest(ctx.clientToProxyRequest, ctx.proxyToClientResponse, connect);
    });

    return new Promise((resolve, reject) => {
      httpServer.once('error', reject);
      httpServer.listen({ host: this.opts.host, port: this.opts.port }, () => {
        httpServer.off('error', reject);
        httpServer.on('error', (err) => log.error({ err }, 'listener error'));
        const addr = httpServer.address();
        const port = typeof addr === 'object' && addr ? addr.port : this.opts.port;
        this.httpPort = port;
        resolve({ host: this.opts.host, port });
      });
    });
  }

  // http-mitm-proxy would dial a loopback bridge to a per-host server here; we hand the socket
  // to the in-process TLS server instead. The library's connectRequests map still ties each
  // TLS request back to the CONNECT that opened it (ctx.connectRequest).
  override _onHttpServerConnectData(req: http.IncomingMessage, rawSocket: Duplex, head: Buffer): void {
    this.adoptTls(rawSocket as Socket, head, req);
  }

  /**
   * Hands a client socket whose next bytes are a TLS ClientHello to the in-process TLS server,
   * tied to the CONNECT (or, for the transparent listener, the synthetic CONNECT) that admitted it.
   */
  adoptTls(socket: Socket, head: Buffer, connectReq: http.IncomingMessage): void {
    socket.pause();
    const key = `${socket.remotePort}:${socket.localPort}`;
    this.connectRequests[key] = connectReq;
    socket.once('close', () => {
      delete this.connectRequests[key];
    });
    if (head.length > 0) socket.unshift(head);
    if (!this.tlsServer) {
      socket.destroy();
      return;
    }
    this.tlsServer.emit('connection', socket);
  }

  override _onHttpServerRequest(isSSL: boolean, req: http.IncomingMessage, res: http.ServerResponse): void {
    rememberOriginalUrl(req);
    try {
      super._onHttpServerRequest(isSSL, req, res);
    } catch (err) {
      // A library fault on one request must not take the process down with it.
      this.opts.log.error({ err }, 'proxy engine failed on a request');
      if (!res.headersSent) res.destroy();
    }
  }

  override _onError(kind: string, ctx: IContext | null, err: Error): void {
    this.opts.log.warn({ kind, err: { message: err.message, code: (err as NodeJS.ErrnoException).code } }, 'proxy engine error');
    const res = ctx?.proxyToClientResponse;
    if (res && !res.headersSent) res.destroy();
  }

  override _onSocketError(socketDescription: string, err: NodeJS.ErrnoException): void {
    this.opts.log.debug({ socket: socketDescription, code: err.code }, 'socket error');
  }

  private answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
    if (socket.writable && err.code !== 'ECONNRESET') {
      const status = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request';
      const body = JSON.stringify({ errors: ['airlock: the request could not be parsed: send a well-formed HTTP request'] });
      socket.end(
        `HTTP/1.1 ${status}\r\nContent-Type: application/json\r\nX-Airlock-Error: BAD_REQUEST\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    }
    socket.destroy();
  }

  /** Stops accepting; idle keep-alive connections close now, busy ones after their response. */
  stopAccepting(): Promise<void> {
    const server = this.httpServer;
    return new Promise((resolve) => {
      if (!server) return resolve();
      server.close(() => resolve());
      server.closeIdleConnections();
      this.tlsServer?.closeIdleConnections();
    });
  }

  /** Ends every connection still open (after the grace period). */
  destroyAll(): void {
    for (const s of this.sockets) s.destroy();
    this.httpServer?.closeAllConnections();
    this.tlsServer?.closeAllConnections();
  }
}

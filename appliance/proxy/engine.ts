// The only module that touches http-mitm-proxy. We keep its CONNECT dispatch and replace the
// parts the field notes warn about: no per-host HTTPS servers and no internal listening port
// (the client's socket is wrapped in TLS here and handed to one in-process HTTP parser), no CA
// files written by the library, no console output, no WebSocket bypass of the request pipeline,
// timeouts on every socket, and no connection state keyed by ports: the library's
// connectRequests map (remotePort:localPort) let a connection from another address on the same
// source port borrow a CONNECT's identity. State hangs off the TLS socket object instead.
import http from 'node:http';
import type { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import tls from 'node:tls';
import { Proxy as MitmProxy, type IContext } from 'http-mitm-proxy';
import { sniCallbackFor } from '../../certs/leaf-issuer.js';
import type { Logger } from '../log.js';
import { rememberOriginalUrl } from './original-url.js';
import { bindConnectState, connectStateOf, getConnectState, type ConnectState } from './connect-state.js';
import { watchConnection, watchRequest, type ConnectionTimeouts, type Expiry } from './connection-timers.js';
import { respondError } from '../lib/respond-error.js';
import { AirlockError, toErrorResponse } from '../errors.js';
import type { Limits } from '../lib/limits.js';

export type EngineTimeouts = ConnectionTimeouts;

export interface EngineHandlers {
  /**
   * Called for every CONNECT. Resolve to true to have the connection intercepted (TLS terminated
   * here, requests passed to onRequest). Resolve to false when the handler dealt with the socket
   * itself (a blind tunnel or a refusal).
   */
  onConnect(req: http.IncomingMessage, socket: Socket, head: Buffer): Promise<boolean>;
  /**
   * Every HTTP request: plain ones on the listener (`connect` undefined), and those inside
   * intercepted TLS (`connect`: the state of the CONNECT, or transparent connection, it came on).
   */
  onRequest(req: http.IncomingMessage, res: http.ServerResponse, connect: ConnectState | undefined): void;
  /** SNI: the certificate for a hostname, or an error to abort the handshake. */
  secureContextFor(servername: string): tls.SecureContext;
}

export interface EngineOptions {
  readonly host: string;
  readonly port: number;
  readonly timeouts: EngineTimeouts;
  readonly log: Logger;
  readonly handlers: EngineHandlers;
  /** Connection caps; shared with the transparent listener. */
  readonly limits: Limits;
}

function applyTimeouts(server: http.Server, t: EngineTimeouts): void {
  server.headersTimeout = t.headersMs;
  server.requestTimeout = t.requestMs;
  server.keepAliveTimeout = t.idleMs;
  server.timeout = t.idleMs;
}

export class Engine extends MitmProxy {
  private readonly opts: EngineOptions;
  /** Parses requests inside intercepted TLS; never listens (the sockets are handed to it). */
  private tlsHttp: http.Server | undefined;
  private secureContext: tls.SecureContext | undefined;
  private readonly sockets = new Set<Duplex>();
  /** Listener connections over limits.maxConnections: answered 503 and closing. */
  private readonly refused = new WeakSet<Duplex>();

  constructor(opts: EngineOptions) {
    super();
    this.opts = opts;
  }

  /** Listens; resolves with the bound address. */
  start(): Promise<{ host: string; port: number }> {
    const { handlers, log, timeouts } = this.opts;

    this.secureContext = tls.createSecureContext({ minVersion: 'TLSv1.2' });
    const tlsHttp = http.createServer();
    applyTimeouts(tlsHttp, timeouts);
    tlsHttp.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
      const state = connectStateOf(req.socket);
      if (!state) {
        // Only sockets adopted with a CONNECT's (or transparent connection's) state reach here.
        res.destroy();
        return;
      }
      watchRequest(req, res);
      this.dispatch(req, res, state);
    });
    tlsHttp.on('clientError', (err, socket) => this.answerClientError(err, socket));
    this.tlsHttp = tlsHttp;

    const httpServer = http.createServer();
    applyTimeouts(httpServer, timeouts);
    httpServer.on('connect', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
      if (this.refused.has(req.socket)) socket.destroy();
      else this._onHttpServerConnect(req, socket, head);
    });
    // Plain requests never see a CONNECT's state, whatever port they come from.
    httpServer.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
      if (this.refused.has(req.socket)) res.destroy();
      else this.dispatch(req, res, undefined);
    });
    httpServer.on('clientError', (err, socket) => this.answerClientError(err, socket));
    httpServer.on('connection', (socket: Socket) => {
      if (!this.opts.limits.openConnection(socket)) {
        log.warn({ code: 'CONNECTION_LIMIT', open: this.opts.limits.openConnections }, 'client connection refused: limits.maxConnections reached');
        // Answered and closed; whatever the client already sent on it is never handled.
        this.refused.add(socket);
        refuseRaw(socket, new AirlockError('CONNECTION_LIMIT', 'limits.maxConnections', { headers: { 'retry-after': '1' } }));
        return;
      }
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

  // http-mitm-proxy would dial a loopback bridge to a per-host server here; we wrap the socket
  // in TLS ourselves, with the state the router attached to this CONNECT.
  override _onHttpServerConnectData(req: http.IncomingMessage, rawSocket: Duplex, head: Buffer): void {
    const state = getConnectState(req);
    if (!state) {
      rawSocket.destroy();
      return;
    }
    this.adoptTls(rawSocket as Socket, head, state);
  }

  /**
   * Terminates TLS on a client socket whose next bytes are a ClientHello and hands the TLS socket
   * to the request parser, tied to the state of the CONNECT (or, for the transparent listener,
   * the SNI) that admitted it. The TLS socket object is the key: nothing about addresses or ports.
   */
  adoptTls(socket: Socket, head: Buffer, state: ConnectState): void {
    const { handlers, log, timeouts } = this.opts;
    const tlsHttp = this.tlsHttp;
    if (!tlsHttp || !this.secureContext) {
      socket.destroy();
      return;
    }
    socket.pause();
    if (head.length > 0) socket.unshift(head);
    const tlsSocket = new tls.TLSSocket(socket, {
      isServer: true,
      secureContext: this.secureContext,
      ALPNProtocols: ['http/1.1'],
      SNICallback: sniCallbackFor(handlers),
    });
    bindConnectState(tlsSocket, state);
    // Shutdown's destroyAll reaches transparent connections through this too.
    this.sockets.add(tlsSocket);
    tlsSocket.once('close', () => this.sockets.delete(tlsSocket));
    // The handshake counts against the headers deadline: a client that stalls in it is cut too.
    watchConnection(tlsSocket, socket, timeouts, {
      answerRaw: (s) => answerTimeout(s),
      answer: (res) => respondError(res, new AirlockError('REQUEST_TIMEOUT', `limits.requestTimeout ${timeouts.requestMs} ms`)),
      expired: (kind: Expiry) => logExpiry(state.log, kind, timeouts),
    });
    let secured = false;
    tlsSocket.once('secure', () => {
      secured = true;
      tlsHttp.emit('connection', tlsSocket);
    });
    tlsSocket.on('error', (err: NodeJS.ErrnoException) => {
      if (secured) {
        log.debug({ code: err.code }, 'client TLS socket error');
      } else {
        // Most often a client that does not trust our CA: say so, it is the first thing to check.
        log.warn({ err: { message: err.message, code: err.code } }, 'TLS handshake with client failed (does the client trust the Airlock CA?)');
      }
      tlsSocket.destroy();
    });
    tlsSocket.once('close', () => socket.destroy());
  }

  /** Hands a request to the pipeline; a fault on one request must not take the process down. */
  private dispatch(req: http.IncomingMessage, res: http.ServerResponse, state: ConnectState | undefined): void {
    rememberOriginalUrl(req);
    try {
      this.opts.handlers.onRequest(req, res, state);
    } catch (err) {
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
      this.tlsHttp?.closeIdleConnections();
    });
  }

  /** Ends every connection still open (after the grace period). */
  destroyAll(): void {
    for (const s of this.sockets) s.destroy();
    this.httpServer?.closeAllConnections();
    this.tlsHttp?.closeAllConnections();
  }
}

function logExpiry(log: Logger, kind: Expiry, t: ConnectionTimeouts): void {
  if (kind === 'idle') log.info({ timeout: 'idle', ms: t.idleMs }, 'idle client connection closed');
  else if (kind === 'headers')
    log.warn(
      { code: 'REQUEST_TIMEOUT', timeout: 'headers', ms: t.headersMs },
      'client connection closed: request headers not complete within limits.headersTimeout',
    );
  else
    log.warn(
      { code: 'REQUEST_TIMEOUT', timeout: 'request', ms: t.requestMs },
      'client connection closed: request body not complete within limits.requestTimeout',
    );
}

/** 408 on a socket whose request was never parsed (what Node's own headersTimeout sends). */
function answerTimeout(socket: Duplex): void {
  refuseRaw(socket, new AirlockError('REQUEST_TIMEOUT', 'limits.headersTimeout'));
}

/** An Airlock error written straight to a socket, then closed: no request object exists yet. */
function refuseRaw(socket: Duplex, err: AirlockError): void {
  const r = toErrorResponse(err);
  if (socket.writable) {
    const head = [`HTTP/1.1 ${r.status} ${http.STATUS_CODES[r.status] ?? 'Error'}`];
    for (const [k, v] of Object.entries(r.headers)) head.push(`${k}: ${v}`);
    head.push('connection: close');
    socket.end(`${head.join('\r\n')}\r\n\r\n${r.body}`);
  }
  const cut = setTimeout(() => socket.destroy(), 1_000);
  cut.unref();
  socket.once('close', () => clearTimeout(cut));
}

// Header, request and idle deadlines for intercepted connections. The in-process TLS server
// never listen()s, so Node's connection checker (headersTimeout, requestTimeout) never runs for
// them, and socket inactivity timeouts alone let a client that sends one byte every few seconds
// hold a connection forever. These timers are per connection and per request, and an approval
// hold suspends them (suspendConnectionTimers).
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import type { Socket } from 'node:net';

export interface ConnectionTimeouts {
  /** From the connection's start (TLS handshake included) to a request's complete headers. */
  readonly headersMs: number;
  /** From a request's headers to its complete body. */
  readonly requestMs: number;
  /** No byte either way for this long closes the connection (socket inactivity). */
  readonly idleMs: number;
}

export type Expiry =
  /** Headers did not complete in time: answered 408 and closed. */
  | 'headers'
  /** The body did not complete in time: answered 408 (if no response started) and closed. */
  | 'request'
  /** A kept-alive connection sent nothing more: closed without a word. */
  | 'idle';

export interface TimerHooks {
  /** Answers 408 on a connection whose request has not been parsed (no response object exists), then closes it. */
  readonly answerRaw: (socket: Duplex) => void;
  /** Answers 408 on a request's response, then the connection is closed. */
  readonly answer: (res: http.ServerResponse) => void;
  readonly expired: (kind: Expiry, socket: Duplex) => void;
}

interface Watch {
  readonly socket: Duplex;
  /** The CONNECT's TCP socket under the TLS layer: its byte count tells idle from slow headers. */
  readonly raw: Socket;
  readonly t: ConnectionTimeouts;
  readonly hooks: TimerHooks;
  /** Requests whose responses have not finished. */
  pending: number;
  headers: NodeJS.Timeout | undefined;
  /** raw.bytesRead when the headers timer was armed after a response (undefined: a fresh connection). */
  bytesAtRearm: number | undefined;
  suspended: number;
  readonly requests: Set<RequestWatch>;
}

interface RequestWatch {
  timer: NodeJS.Timeout | undefined;
  arm(): void;
  clear(): void;
}

const watches = new WeakMap<object, Watch>();

/**
 * Starts the deadlines of an intercepted connection: its first request's headers (TLS
 * handshake included) are due within headersMs.
 */
export function watchConnection(socket: Duplex, raw: Socket, t: ConnectionTimeouts, hooks: TimerHooks): void {
  const w: Watch = { socket, raw, t, hooks, pending: 0, headers: undefined, bytesAtRearm: undefined, suspended: 0, requests: new Set() };
  watches.set(socket, w);
  raw.setTimeout(t.idleMs, () => expire(w, 'idle'));
  armHeaders(w, t.headersMs);
  socket.once('close', () => {
    clearTimeout(w.headers);
    for (const r of w.requests) r.clear();
    w.requests.clear();
  });
}

/** A request's headers arrived on a watched connection: its body is due within requestMs. */
export function watchRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
  const w = watches.get(req.socket);
  if (!w) return;
  clearTimeout(w.headers);
  w.headers = undefined;
  w.pending++;
  const r: RequestWatch = {
    timer: undefined,
    arm() {
      clearTimeout(r.timer);
      r.timer = req.complete ? undefined : setTimeout(() => onRequestExpired(w, req, res), w.t.requestMs);
    },
    clear() {
      clearTimeout(r.timer);
      r.timer = undefined;
    },
  };
  w.requests.add(r);
  if (w.suspended === 0) r.arm();
  const done = (): void => {
    r.clear();
    w.requests.delete(r);
  };
  req.once('end', done);
  res.once('close', () => {
    done();
    w.pending--;
    // The next request's headers: due within idle + headers of this response, unless another
    // pipelined request is already being answered (its own deadlines run).
    if (w.pending === 0 && !w.socket.destroyed && w.suspended === 0) {
      w.bytesAtRearm = w.raw.bytesRead;
      armHeaders(w, w.t.idleMs + w.t.headersMs);
    }
  });
}

/**
 * Pauses every deadline of the connection `socket` belongs to (an approval hold can last
 * minutes with no byte moving); the returned function restarts them, each with its full length.
 */
export function suspendConnectionTimers(socket: Duplex): () => void {
  const w = watches.get(socket);
  // Plain requests on the listener: only the socket's own inactivity timeout exists.
  const sockets = [socket as Partial<Socket>, ...(w ? [w.raw] : [])].filter((s): s is Socket => typeof s.setTimeout === 'function');
  const before = sockets.map((s) => s.timeout ?? 0);
  for (const s of sockets) s.setTimeout(0);
  if (w) {
    w.suspended++;
    clearTimeout(w.headers);
    w.headers = undefined;
    for (const r of w.requests) r.clear();
  }
  let restored = false;
  return () => {
    if (restored) return;
    restored = true;
    sockets.forEach((s, i) => s.setTimeout(before[i] ?? 0));
    if (!w) return;
    w.suspended--;
    if (w.suspended > 0 || w.socket.destroyed) return;
    for (const r of w.requests) r.arm();
    if (w.pending === 0) armHeaders(w, w.t.idleMs + w.t.headersMs);
  };
}

function armHeaders(w: Watch, ms: number): void {
  clearTimeout(w.headers);
  w.headers = setTimeout(() => {
    w.headers = undefined;
    // Nothing arrived since the last response: an idle keep-alive connection, not a slow one.
    if (w.bytesAtRearm !== undefined && w.raw.bytesRead === w.bytesAtRearm) expire(w, 'idle');
    else expire(w, 'headers');
  }, ms);
}

function expire(w: Watch, kind: Expiry): void {
  if (w.socket.destroyed) return;
  w.hooks.expired(kind, w.socket);
  if (kind === 'headers') {
    // answerRaw ends the connection once the 408 is out (or cuts it shortly after).
    w.hooks.answerRaw(w.socket);
    return;
  }
  w.socket.destroy();
  w.raw.destroy();
}

function onRequestExpired(w: Watch, req: http.IncomingMessage, res: http.ServerResponse): void {
  if (w.socket.destroyed || req.complete) return;
  w.hooks.expired('request', w.socket);
  if (res.headersSent) {
    w.socket.destroy();
    w.raw.destroy();
    return;
  }
  res.shouldKeepAlive = false;
  w.hooks.answer(res);
  // The answer goes out first (destroying the request now would take the socket with it); a
  // client that does not read it is cut anyway. The pipeline reading the body sees it close.
  const cut = setTimeout(() => {
    w.socket.destroy();
    w.raw.destroy();
  }, 1_000);
  cut.unref();
  res.once('finish', () => {
    clearTimeout(cut);
    w.socket.destroy();
    w.raw.destroy();
  });
}

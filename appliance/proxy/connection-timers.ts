// Header, request and idle deadlines for intercepted connections. The in-process TLS server
// never listen()s, so Node's connection checker (headersTimeout, requestTimeout) never runs for
// them, and socket inactivity timeouts alone let a client that sends one byte every few seconds
// hold a connection forever. The deadlines are per connection and per request, one timer per
// connection serves them all, and an approval hold suspends them (suspendConnectionTimers).
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
  /** Requests whose responses have not finished, oldest first. */
  readonly requests: RequestWatch[];
  /** When the next request's headers are due (performance.now() ms); Infinity while requests are pending or suspended. */
  headersDue: number;
  /** raw.bytesRead when the headers deadline was set after a response (undefined: a fresh connection). */
  bytesAtRearm: number | undefined;
  suspended: number;
  /** The connection's one timer, and when it fires; it may fire before anything is due and then re-arms. */
  timer: NodeJS.Timeout | undefined;
  timerAt: number;
}

interface RequestWatch {
  readonly req: http.IncomingMessage;
  readonly res: http.ServerResponse;
  /** When the body is due; Infinity while suspended. A complete request is never expired. */
  due: number;
}

const watches = new WeakMap<object, Watch>();

// One timer per connection and deadlines as timestamps: a request and its response only move
// numbers. Setting and clearing a timer per request (and one per response for the next headers)
// plus two listeners per request was a measurable part of the per-request CPU; the timer now
// re-arms only when a deadline comes before the time it is set for.
const now = (): number => performance.now();

/**
 * Starts the deadlines of an intercepted connection: its first request's headers (TLS
 * handshake included) are due within headersMs.
 */
export function watchConnection(socket: Duplex, raw: Socket, t: ConnectionTimeouts, hooks: TimerHooks): void {
  const w: Watch = {
    socket,
    raw,
    t,
    hooks,
    requests: [],
    headersDue: now() + t.headersMs,
    bytesAtRearm: undefined,
    suspended: 0,
    timer: undefined,
    timerAt: Infinity,
  };
  watches.set(socket, w);
  raw.setTimeout(t.idleMs, () => expire(w, 'idle'));
  schedule(w);
  socket.once('close', () => {
    clearTimeout(w.timer);
    w.timer = undefined;
    w.requests.length = 0;
  });
}

/** A request's headers arrived on a watched connection: its body is due within requestMs. */
export function watchRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
  const w = watches.get(req.socket);
  if (!w) return;
  w.headersDue = Infinity;
  const r: RequestWatch = { req, res, due: w.suspended === 0 ? now() + w.t.requestMs : Infinity };
  w.requests.push(r);
  schedule(w);
  res.once('close', () => {
    const i = w.requests.indexOf(r);
    if (i >= 0) w.requests.splice(i, 1);
    // The next request's headers: due within idle + headers of this response, unless another
    // pipelined request is already being answered (its own deadlines run).
    if (w.requests.length === 0 && !w.socket.destroyed && w.suspended === 0) {
      w.bytesAtRearm = w.raw.bytesRead;
      w.headersDue = now() + w.t.idleMs + w.t.headersMs;
      schedule(w);
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
    w.headersDue = Infinity;
    for (const r of w.requests) r.due = Infinity;
    schedule(w);
  }
  let restored = false;
  return () => {
    if (restored) return;
    restored = true;
    sockets.forEach((s, i) => s.setTimeout(before[i] ?? 0));
    if (!w) return;
    w.suspended--;
    if (w.suspended > 0 || w.socket.destroyed) return;
    const t = now();
    for (const r of w.requests) r.due = t + w.t.requestMs;
    if (w.requests.length === 0) w.headersDue = t + w.t.idleMs + w.t.headersMs;
    schedule(w);
  };
}

/** The earliest deadline still running: the headers', or an incomplete request's body. */
function nextDue(w: Watch): number {
  let due = w.headersDue;
  for (const r of w.requests) if (r.due < due && !r.req.complete) due = r.due;
  return due;
}

/** Arms the connection's timer for its earliest deadline, unless it already fires no later. */
function schedule(w: Watch): void {
  const due = nextDue(w);
  if (due === Infinity) {
    if (w.timer !== undefined) {
      clearTimeout(w.timer);
      w.timer = undefined;
      w.timerAt = Infinity;
    }
    return;
  }
  if (w.timer !== undefined && w.timerAt <= due) return;
  clearTimeout(w.timer);
  w.timerAt = due;
  w.timer = setTimeout(() => onTimer(w), Math.max(1, Math.ceil(due - now())));
}

function onTimer(w: Watch): void {
  w.timer = undefined;
  w.timerAt = Infinity;
  if (w.socket.destroyed) return;
  const t = now();
  if (w.headersDue <= t) {
    w.headersDue = Infinity;
    // Nothing arrived since the last response: an idle keep-alive connection, not a slow one.
    if (w.bytesAtRearm !== undefined && w.raw.bytesRead === w.bytesAtRearm) expire(w, 'idle');
    else expire(w, 'headers');
    return;
  }
  for (const r of w.requests) {
    if (r.due <= t && !r.req.complete) {
      r.due = Infinity;
      onRequestExpired(w, r.req, r.res);
      if (w.socket.destroyed) return;
    }
  }
  schedule(w);
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

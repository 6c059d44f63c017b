import type { IncomingMessage } from 'node:http';
import type { Logger } from '../log.js';
import type { Destination } from './resolve-destination.js';

/** What Airlock learnt from an intercepted CONNECT, looked up again for each request inside it. */
export interface ConnectState {
  readonly id: string;
  readonly host: string;
  readonly port: number;
  readonly destination: Destination;
  /** The Proxy-Authorization sent on the CONNECT: a carrier of the job's token. */
  readonly proxyAuthorization: string | undefined;
  readonly log: Logger;
}

// Keyed by objects, never by address/port tuples: two clients on different addresses (or in
// different containers) can share a source port, and must never share a CONNECT's identity.
// Both maps are weak, so a closed connection's state goes with its socket.
const byConnect = new WeakMap<IncomingMessage, ConnectState>();
const bySocket = new WeakMap<object, ConnectState>();

/** Ties the state to the CONNECT request while its tunnel is being set up. */
export function setConnectState(req: IncomingMessage, state: ConnectState): void {
  byConnect.set(req, state);
}

export function getConnectState(req: IncomingMessage | undefined): ConnectState | undefined {
  return req ? byConnect.get(req) : undefined;
}

/** Ties the state to the (TLS) socket that will carry the tunnel's requests. */
export function bindConnectState(socket: object, state: ConnectState): void {
  bySocket.set(socket, state);
}

/** The state of the connection a request arrived on; undefined for plain requests on the listener. */
export function connectStateOf(socket: object | null | undefined): ConnectState | undefined {
  return socket ? bySocket.get(socket) : undefined;
}

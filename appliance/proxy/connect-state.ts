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

const states = new WeakMap<IncomingMessage, ConnectState>();

export function setConnectState(req: IncomingMessage, state: ConnectState): void {
  states.set(req, state);
}

export function getConnectState(req: IncomingMessage | undefined): ConnectState | undefined {
  return req ? states.get(req) : undefined;
}

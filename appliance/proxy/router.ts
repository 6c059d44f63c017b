import type http from 'node:http';
import type { Socket } from 'node:net';
import { AirlockError, isAirlockError } from '../errors.js';
import { redactForLog, type Logger } from '../log.js';
import type { Config } from '../config/schema.js';
import { setConnectState, type ConnectState } from './connect-state.js';
import { handleIntercepted, newConnectionId, tlsServername, type PipelineDeps } from './handle-request.js';
import { isIntercepted, normalizeHost, splitHostPort, type InterceptRules } from '../config/host-match.js';
import { resolveDestination, type Destination, type Lookup } from './resolve-destination.js';
import { refuseConnect, respondError } from '../lib/respond-error.js';
import { tunnel, type Dial } from './tunnel.js';
import { InterceptedAddresses } from './intercepted-addresses.js';
import { passthroughDestination } from './passthrough-destination.js';
import { forwardPlain } from './forward-plain.js';
import { originalUrl } from './original-url.js';
import type { EngineHandlers } from './engine.js';
import { logRequest, requestLine } from '../pipeline/request-log-line.js';

export interface RouterDeps {
  readonly config: Config;
  readonly rules: InterceptRules;
  readonly pipeline: PipelineDeps;
  readonly log: Logger;
  readonly idleMs: number;
  readonly lookup?: Lookup;
  /** Opens passthrough tunnels' upstream connections (tests inject one that records attempts). */
  readonly dial?: Dial;
  /** Addresses of intercepted hosts (seeded at start); a passthrough name resolving to one is refused. */
  readonly interceptedAddresses?: InterceptedAddresses;
  /** Requests addressed to Airlock itself (not proxied): its small HTTP API. */
  readonly local: (req: http.IncomingMessage, res: http.ServerResponse) => void;
  /** The listener's own address, to tell requests for Airlock from requests through it. */
  readonly self: () => { host: string; port: number };
  /** Counts in-flight exchanges so shutdown can wait for them. */
  readonly track: <T>(p: Promise<T>) => Promise<T>;
  /** Hands an admitted TLS socket to the engine, with its connection state (see Engine.adoptTls). */
  readonly adoptTls: (socket: Socket, head: Buffer, state: ConnectState) => void;
}

export interface Router extends Omit<EngineHandlers, 'secureContextFor'> {
  /** A transparently redirected TLS connection, treated as a CONNECT to SNI:443. */
  readonly onTransparent: (socket: Socket, head: Buffer, servername: string) => void;
}

export function createRouter(deps: RouterDeps): Router {
  const { config, rules, log } = deps;
  const addresses = deps.interceptedAddresses ?? new InterceptedAddresses();
  const passthrough = { config, addresses, lookup: deps.lookup };

  /** Resolves an intercepted host once, and remembers the address for the passthrough check. */
  async function interceptedDestination(host: string): Promise<Destination> {
    const destination = await resolveDestination(host, 443, config.upstream, deps.lookup);
    addresses.add(destination.address);
    return destination;
  }

  async function onConnect(req: http.IncomingMessage, socket: Socket, head: Buffer): Promise<boolean> {
    const id = newConnectionId();
    const target = splitHostPort(req.url ?? '', 443);
    // The CONNECT authority is the agent's text: a JWT is a valid host name.
    const clog = log.child({ conn: id, target: target ? redactForLog(`${target.host}:${target.port}`) : 'invalid' });
    if (!target) {
      refuseConnect(socket, new AirlockError('BAD_REQUEST', 'CONNECT needs HOST:PORT'));
      return false;
    }
    const intercepted = isIntercepted(rules, target.host);
    try {
      if (intercepted) {
        if (target.port !== 443) {
          throw new AirlockError('PASSTHROUGH_DENIED', `intercepted hosts are reached on port 443 only, not ${target.port}`);
        }
        const destination = await interceptedDestination(target.host);
        setConnectState(req, {
          id,
          host: target.host,
          port: target.port,
          destination,
          proxyAuthorization: req.headers['proxy-authorization'],
          log: clog,
        });
        clog.debug('intercepting');
        return true;
      }
      const destination = await passthroughDestination(target.host, target.port, passthrough);
      clog.info({ decision: 'tunnel' }, 'passthrough tunnel');
      tunnel(socket, head, destination, deps.idleMs, clog, { dial: deps.dial });
      return false;
    } catch (err) {
      const code = isAirlockError(err) ? err.code : 'INTERNAL';
      if (!isAirlockError(err)) clog.error({ err }, 'CONNECT failed');
      const status = refuseConnect(socket, err);
      clog.info({ decision: 'refused', code, status }, 'CONNECT refused');
      return false;
    }
  }

  function onTransparent(socket: Socket, head: Buffer, servername: string): void {
    const host = normalizeHost(servername);
    const clog = log.child({ conn: newConnectionId(), target: redactForLog(`${host}:443`), transparent: true });
    const work = (async () => {
      if (isIntercepted(rules, host)) {
        const destination = await interceptedDestination(host);
        // No CONNECT exists: the state carries the SNI's target so requests are checked against it.
        deps.adoptTls(socket, head, { id: newConnectionId(), host, port: 443, destination, proxyAuthorization: undefined, log: clog });
        return;
      }
      const destination = await passthroughDestination(host, 443, passthrough);
      clog.info({ decision: 'tunnel' }, 'passthrough tunnel');
      tunnel(socket, head, destination, deps.idleMs, clog, { announce: false, dial: deps.dial });
    })();
    work.catch((err: unknown) => {
      clog.info({ decision: 'refused', code: isAirlockError(err) ? err.code : 'INTERNAL' }, 'transparent connection refused');
      socket.destroy();
    });
  }

  function onRequest(req: http.IncomingMessage, res: http.ServerResponse, state: ConnectState | undefined): void {
    const work = route(req, res, state).catch((err: unknown) => {
      log.error({ err }, 'request handler failed');
      respondError(res, new AirlockError('INTERNAL'));
    });
    void deps.track(work);
  }

  async function route(req: http.IncomingMessage, res: http.ServerResponse, state: ConnectState | undefined): Promise<void> {
    if (state) {
      const sni = tlsServername(req);
      const host = splitHostPort(req.headers.host ?? '', 443);
      if (!sni || normalizeHost(sni) !== state.host || !host || host.host !== state.host || host.port !== state.port) {
        req.resume();
        const err = new AirlockError('HOST_MISMATCH', `connected to ${state.host}`);
        const status = respondError(res, err);
        logRequest(state.log, requestLine({ method: req.method, host: state.host, decision: 'refused', status, code: err.code, reason: err.detail }));
        return;
      }
      await handleIntercepted(
        deps.pipeline,
        {
          destination: state.destination,
          hostHeader: state.host,
          authority: { host: state.host, port: state.port },
          proxyAuthorization: state.proxyAuthorization,
          log: state.log,
        },
        req,
        res,
      );
      return;
    }

    // Plain HTTP on the listener: absolute-form requests through the proxy, or Airlock's own API.
    const rawUrl = originalUrl(req);
    // The authority of an absolute-form http:// target (userinfo skipped: the pipeline strips it).
    const abs = /^http:\/\/(?:[^/?#@]*@)?([^/?#]*)/i.exec(rawUrl);
    const absolute = abs !== null;
    const hostValue = abs ? abs[1]! : (req.headers.host ?? '');
    const target = splitHostPort(hostValue, 80);
    const self = deps.self();
    if (!absolute || !target || (isSelf(target.host, self.host) && target.port === self.port)) {
      deps.local(req, res);
      return;
    }
    const rlog = log.child({ conn: newConnectionId(), target: redactForLog(`${target.host}:${target.port}`) });
    try {
      if (isIntercepted(rules, target.host)) {
        // Datadog is HTTPS only: a plain request for an intercepted host goes upstream over TLS.
        const destination = await interceptedDestination(target.host);
        await handleIntercepted(
          deps.pipeline,
          { destination, hostHeader: target.host, authority: target, proxyAuthorization: req.headers['proxy-authorization'], log: rlog },
          req,
          res,
        );
        return;
      }
      const destination = await passthroughDestination(target.host, target.port, passthrough);
      await forwardPlain(req, res, destination, deps.pipeline.upstreamTimeoutMs, rlog);
    } catch (err) {
      req.resume();
      const status = respondError(res, err);
      const known = isAirlockError(err) ? err : undefined;
      logRequest(
        rlog,
        requestLine({ method: req.method, host: target.host, decision: 'refused', status, code: known?.code ?? 'INTERNAL', reason: known?.detail }),
      );
    }
  }

  return { onConnect, onRequest, onTransparent };
}

function isSelf(host: string, listenHost: string): boolean {
  const h = normalizeHost(host);
  return h === normalizeHost(listenHost) || h === 'localhost' || h === '127.0.0.1' || h === '::1';
}

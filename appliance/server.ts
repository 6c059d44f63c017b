import http from 'node:http';
import tls from 'node:tls';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Config } from './config/schema.js';
import type { Logger } from './log.js';
import { loadOrCreateCa } from '../certs/ca-store.js';
import { caPermits } from '../certs/ca-permits.js';
import { LeafIssuer } from '../certs/leaf-issuer.js';
import { fetchJson } from './identity/fetch-json.js';
import { VaultReader } from './credentials/vault-reader.js';
import { importVaultSeed } from './credentials/import-seed.js';
import { sessionsReserve, SessionStore } from './recording/session/index.js';
import { openAuditTrail } from './shipping/audit-trail.js';
import { Engine } from './proxy/engine.js';
import { createRouter } from './proxy/router.js';
import { startTransparentListener } from './proxy/transparent.js';
import { Limits, STREAM_SLACK_BYTES } from './lib/limits.js';
import { interceptRules, permittedDomains } from './config/host-match.js';
import type { Lookup } from './proxy/resolve-destination.js';
import type { Dial } from './proxy/tunnel.js';
import { InterceptedAddresses } from './proxy/intercepted-addresses.js';
import { lookupAllFrom, preresolveIntercepted } from './proxy/preresolve-intercepted.js';
import { createLocalApi } from './local-api.js';
import { SessionTokens } from './identity/session-tokens.js';
import { loginRoutes } from './identity/login-api.js';
import { startControlServer, type ControlServer } from './control/control-server.js';
import { controlSocketPath } from './control/socket-path.js';
import { VERSION } from './version.js';
import { buildGuard } from './policy/guard.js';
import { UpstreamPools } from './proxy/upstream-pools.js';
import { createMetrics, startAdmin, type MetricsParts } from './metrics/server-metrics.js';
import { countFailures, instrumentSessions } from './metrics/instrument.js';
import type { AirlockMetrics } from './metrics/metrics.js';
import { LiveConfig, type ReloadResult } from './reload/live-config.js';
import { reloadServer } from './reload/reload-server.js';
import { preflightListen } from './proxy/preflight-listen.js';
import { missingCredentials } from './config/startup-checks.js';
import { CodedError } from './errors.js';

export const SHUTDOWN_GRACE_MS = 10_000;

export interface ServerDeps {
  readonly log: Logger;
  /** Epoch ms with sub-ms precision; injected by tests. */
  readonly now?: () => number;
  readonly lookup?: Lookup;
  /** Opens passthrough tunnels' upstream connections; tests inject one so nothing real is dialled. */
  readonly dial?: Dial;
  /** Where CREDENTIALS_DIRECTORY (systemd's LoadCredential=) is read from; process.env by default. */
  readonly env?: NodeJS.ProcessEnv;
  /** Reads and checks the config again for a reload (throws ConfigError); absent, reload is refused. */
  readonly readConfig?: () => Config;
}

export interface RunningServer {
  readonly host: string;
  readonly port: number;
  readonly caCertPem: string;
  /** Stops accepting, lets in-flight exchanges finish (10 s at most), finalizes every session. */
  close(): Promise<void>;
  /** Re-reads the config and applies it for new requests, or keeps the old one and says why. */
  reload(): ReloadResult;
}

class StartupError extends CodedError<'CA_CONSTRAINTS'> {}

const defaultNow = (): number => performance.timeOrigin + performance.now();

export async function startServer(config: Config, deps: ServerDeps): Promise<RunningServer> {
  const { log } = deps;
  const now = deps.now ?? defaultNow;
  // Nothing is created on disk before the listeners are known to bind.
  await preflightListen(config);
  const domains = permittedDomains(config.intercept);
  const { ca, created } = await loadOrCreateCa(join(config.stateDir, 'ca'), {
    permittedDomains: domains,
    validityMs: config.ca.validity,
  });
  if (created) log.info({ caFile: join(config.stateDir, 'ca', 'ca.crt') }, 'created a new Airlock CA: clients must trust ca.crt');
  const refused = domains.filter((d) => !caPermits(ca.certPem, d));
  if (refused.length > 0) {
    throw new StartupError(
      'CA_CONSTRAINTS',
      `the CA's name constraints do not cover ${refused.join(', ')}: run \`airlock ca init --force\` and give clients the new ca.crt`,
    );
  }
  const leaves = new LeafIssuer(ca);

  const extraCa = config.upstream.caFile ? readFileSync(config.upstream.caFile, 'utf8') : null;
  // System roots plus the operator's extra CA; verification is never switched off. One context
  // for every upstream connection: given as `ca`, Node would parse every root again for each
  // connection and join them all into the agent's pool key on every request.
  const upstream = new UpstreamPools({
    secureContext: tls.createSecureContext({ ca: extraCa ? [...tls.rootCertificates, extraCa] : [...tls.rootCertificates] }),
    socketTimeoutMs: 60_000,
  });

  await importVaultSeed(config.stateDir, deps.env ?? process.env, log);
  const vault = new VaultReader(config.stateDir, { log: log.child({ stage: 'vault' }) });
  await vault.start();
  const held = (c: Config): Set<string> => new Set(c.identity.grants.map((g) => g.credential).filter((n) => vault.get(n) !== undefined));
  for (const w of missingCredentials(config, held(config))) log.warn(w);
  const audit = await openAuditTrail(config, { log, now: () => Math.floor(now()) });
  const sessions = new SessionStore({
    sessionsDir: join(config.stateDir, 'sessions'),
    maxBodyBytes: config.recording.maxBodyBytes,
    idleTimeoutMs: config.sessions.idleTimeout,
    log: log.child({ stage: 'recording' }),
    now: () => Math.floor(now()),
    creatorVersion: VERSION,
    seal: audit.seal,
    reserve: sessionsReserve(join(config.stateDir, 'sessions')),
    // A closed session's upstream sockets are never reused by anyone.
    onClosed: (id) => upstream.release(id),
  });
  const recovered = await sessions.recover();
  if (recovered.length > 0) log.info({ sessions: recovered }, 'finalized sessions left open by a previous run');
  await audit.start();
  sessions.startIdleSweeper();
  // Made before the parts it counts (the identity fetches are counted): it reads them only at
  // scrape time, once they all exist.
  const parts: MetricsParts = {
    config,
    log: log.child({ stage: 'admin' }),
    now,
    openConnections: () => limits.openConnections,
    openSessions: () => sessions.openCount,
    approvals: () => guard.approvals.list(),
    vaultTimes: () => vault.times(),
    // The running resolver: a reload replaces it (reload/live-config.ts).
    issuersWithKeys: () => live.parts.jwt.issuersWithKeys,
    sessionsDir: join(config.stateDir, 'sessions'),
  };
  const metrics: AirlockMetrics = createMetrics(parts);
  const resolverDeps = {
    fetchJson: countFailures(fetchJson, () => metrics.jwksFailure()),
    now: () => Math.floor(now()),
    log: log.child({ stage: 'identity' }),
  };
  // Session tokens from `airlock login` survive a restart (see identity/login-state-file.ts).
  const sessionTokens = new SessionTokens({
    file: join(config.stateDir, 'login-sessions.json'),
    ttlMs: config.identity.sessionTtl,
    now: () => Math.floor(now()),
    log: log.child({ stage: 'login' }),
  });
  await sessionTokens.load();
  const guard = buildGuard(config, { log: log.child({ stage: 'policy' }), now: () => Math.floor(now()), secretValues: () => vault.allSecretValues() });
  // Identity rules, policies and masking: swapped whole by a reload (reload/live-config.ts).
  const live = new LiveConfig(config, guard, { tokens: sessionTokens, resolverDeps });
  const localApi = createLocalApi(
    loginRoutes(
      {
        get verifier() {
          return live.parts.jwt;
        },
        get rules() {
          return live.parts.config.identity;
        },
        tokens: sessionTokens,
        ambient: config.identity.ambient,
        sessions,
        log: log.child({ stage: 'login' }),
      },
      () => ca.certPem,
    ),
  );

  const inflight = new Set<Promise<unknown>>();
  let address = { host: config.listen.host, port: config.listen.port };
  const idleMs = config.limits.idleTimeout;
  const limits = new Limits(config.limits, config.recording.maxBodyBytes + STREAM_SLACK_BYTES);
  const rules = interceptRules(config.intercept);
  const interceptedAddresses = new InterceptedAddresses();
  // Only passthrough: allow consults the set. In the background: start must not wait on (or fail for) DNS.
  if (config.passthrough === 'allow') {
    void preresolveIntercepted(config, rules, interceptedAddresses, lookupAllFrom(deps.lookup), log.child({ stage: 'passthrough' }));
  }
  const router = createRouter({
    config,
    rules,
    interceptedAddresses,
    log,
    idleMs,
    ...(deps.lookup ? { lookup: deps.lookup } : {}),
    ...(deps.dial ? { dial: deps.dial } : {}),
    pipeline: {
      get identity() {
        return live.parts.identity;
      },
      sessions: instrumentSessions(sessions, metrics, now),
      metrics,
      vault,
      agentFor: (sessionId) => upstream.agentFor(sessionId),
      maxBodyBytes: config.recording.maxBodyBytes,
      upstreamTimeoutMs: 60_000,
      now,
      get guard() {
        return live.parts.guard;
      },
      limits,
    },
    local: localApi,
    self: () => address,
    adoptTls: (socket, head, state) => engine.adoptTls(socket, head, state),
    track: (p) => {
      inflight.add(p);
      void p.finally(() => inflight.delete(p));
      return p;
    },
  });
  const engine = new Engine({
    host: config.listen.host,
    port: config.listen.port,
    log,
    timeouts: { headersMs: config.limits.headersTimeout, idleMs, requestMs: config.limits.requestTimeout },
    limits,
    handlers: { ...router, secureContextFor: (name) => leaves.secureContextFor(name) },
  });
  address = await engine.start();
  const transparent = config.transparent.listen
    ? await startTransparentListener({
        ...config.transparent.listen,
        log: log.child({ listener: 'transparent' }),
        idleMs,
        limits,
        onHello: router.onTransparent,
      })
    : undefined;
  if (transparent) {
    const t = transparent.address() as AddressInfo;
    log.info({ host: t.address, port: t.port }, `transparent TLS listener on ${formatHostPort({ host: t.address, port: t.port })}`);
  }

  const reload = (): ReloadResult => reloadServer(live, deps.readConfig, log, (c) => missingCredentials(c, held(c)));
  let control: ControlServer | undefined;
  try {
    control = await startControlServer(controlSocketPath(config), {
      sessions,
      log: log.child({ stage: 'control' }),
      approvals: guard.approvals,
      group: config.approvals.group,
      outbox: audit,
      reload,
    });
  } catch (err) {
    log.warn({ err: { message: (err as Error).message } }, 'control socket unavailable: `airlock sessions close` will not reach this server');
  }

  const admin = await startAdmin(parts, metrics);
  void live.parts.jwt.warmKeys();

  log.info({ host: address.host, port: address.port, stateDir: config.stateDir }, `airlock listening on ${formatHostPort(address)}`);

  let closing: Promise<void> | undefined;
  return {
    reload,
    host: address.host,
    port: address.port,
    caCertPem: ca.certPem,
    close() {
      closing ??= (async () => {
        log.info({ inflight: inflight.size }, 'shutting down: no new connections; waiting for in-flight exchanges');
        transparent?.close();
        const stopped = engine.stopAccepting();
        // Holds survive nothing: their clients get a connection error, the HAR says held-then-aborted.
        guard.approvals.abortAll('Airlock is shutting down');
        const grace = new Promise<void>((r) => setTimeout(r, SHUTDOWN_GRACE_MS).unref());
        await Promise.race([Promise.allSettled([...inflight]), grace]);
        engine.destroyAll();
        await Promise.race([stopped, grace]);
        await control?.close();
        await admin?.close();
        await sessions.closeAll('shutdown');
        await audit.stop();
        await guard.approvals.close?.();
        vault.stop();
        upstream.releaseAll();
        log.info('airlock stopped');
      })();
      return closing;
    },
  };
}

export function formatHostPort(a: { host: string; port: number }): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

export type { http };

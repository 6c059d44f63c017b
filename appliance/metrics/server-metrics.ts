// Wires the metrics to a running server's parts and starts the admin listener. Kept out of
// server.ts so that file only calls it. A listener that cannot bind is a warning, not a failed
// start: metrics never decide whether jobs get their recorded access.
import { access, constants } from 'node:fs/promises';
import type { Config } from '../config/schema.js';
import type { Logger } from '../log.js';
import { pendingIds, readItem } from '../shipping/outbox.js';
import { startAdminServer, type AdminServer } from './admin-server.js';
import { AirlockMetrics, type HostClass } from './metrics.js';
import { readiness } from './readiness.js';

export interface MetricsParts {
  readonly config: Config;
  readonly log: Logger;
  readonly now: () => number;
  readonly openConnections: () => number;
  readonly openSessions: () => number;
  readonly approvals: () => readonly { readonly ageSeconds: number }[] | Promise<readonly { readonly ageSeconds: number }[]>;
  readonly vaultTimes: () => readonly { readonly name: string; readonly updatedAt: string }[];
  readonly issuersWithKeys: () => number;
  readonly sessionsDir: string;
}

export function hostClassOf(datadogSites: readonly string[]): HostClass {
  const sites = datadogSites.map((s) => s.toLowerCase());
  const suffixes = sites.map((s) => `.${s}`);
  // Intercepted hosts are few (the config's sites and hosts): remember each one's class.
  const known = new Map<string, 'datadog' | 'custom'>();
  return (host) => {
    let c = known.get(host);
    if (c === undefined) {
      const h = host.toLowerCase();
      c = sites.includes(h) || suffixes.some((s) => h.endsWith(s)) ? 'datadog' : 'custom';
      if (known.size < 1024) known.set(host, c);
    }
    return c;
  };
}

export function createMetrics(p: MetricsParts): AirlockMetrics {
  const stateDir = p.config.stateDir;
  return new AirlockMetrics({
    hostClass: hostClassOf(p.config.intercept.datadogSites),
    grants: p.config.identity.grants.map((g) => g.name),
    sources: {
      now: p.now,
      openConnections: p.openConnections,
      openSessions: p.openSessions,
      approvals: p.approvals,
      vaultEntries: p.vaultTimes,
      async outbox() {
        const ids = await pendingIds(stateDir);
        const first = ids[0] !== undefined ? await readItem(stateDir, ids[0]) : null;
        const at = first ? Date.parse(first.enqueuedAt) : NaN;
        return { depth: ids.length, oldestAgeSeconds: Number.isFinite(at) ? Math.max(0, (p.now() - at) / 1000) : 0 };
      },
    },
  });
}

export async function startAdmin(p: MetricsParts, metrics: AirlockMetrics): Promise<AdminServer | undefined> {
  const listen = p.config.admin.listen;
  if (!listen) return undefined;
  try {
    const admin = await startAdminServer(listen, {
      metrics,
      log: p.log,
      ready: () =>
        readiness({
          ca: () => true,
          vault: () => p.vaultTimes().length > 0,
          journalWritable: () => access(p.sessionsDir, constants.W_OK),
          issuerKeys: p.issuersWithKeys,
          issuers: p.config.identity.issuers.length,
        }),
    });
    const where = admin.host.includes(':') ? `[${admin.host}]:${admin.port}` : `${admin.host}:${admin.port}`;
    p.log.info({ host: admin.host, port: admin.port }, `admin listener (metrics, healthz, readyz) on ${where}`);
    return admin;
  } catch (err) {
    p.log.warn({ err: { message: (err as Error).message } }, 'admin listener unavailable: no metrics, healthz or readyz from this server');
    return undefined;
  }
}

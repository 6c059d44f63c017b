// Airlock's Prometheus metrics (issue 15), in a registry of their own (never prom-client's global
// one: two servers in one test process must not share counters).
//
// Label cardinality is bounded by construction: decision is a closed set, code and grant are capped
// sets (a value beyond the cap is counted as "other"), the host is a class (datadog, custom, other), never a
// name; no path, session id or sub is ever a label. The request path pays for one counter
// increment and three histogram observations, on label children cached by a string key; every
// gauge that needs a look at the state (sessions, holds, outbox, vault) is computed at scrape time.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Decision } from '../lib/decision.js';

/** What the request pipeline tells the metrics once a response is done (its canonical log line). */
export interface RequestFacts {
  readonly decision: Decision;
  readonly code?: string | undefined;
  readonly grant?: string | undefined;
  readonly host: string;
  readonly bytesIn?: number | undefined;
  readonly bytesOut?: number | undefined;
}

/** Read at scrape time; each may be absent (a part the server does not run). */
export interface MetricsSources {
  openConnections?(): number;
  openSessions?(): number;
  /** Holds waiting (with approvals.bus: the bus's, every runner's). */
  approvals?(): readonly { readonly ageSeconds: number }[] | Promise<readonly { readonly ageSeconds: number }[]>;
  outbox?(): Promise<{ readonly depth: number; readonly oldestAgeSeconds: number }>;
  vaultEntries?(): readonly { readonly name: string; readonly updatedAt: string }[];
  now?(): number;
}

export type HostClass = (host: string) => 'datadog' | 'custom' | 'other';

const MAX_LABEL_VALUES = 64;
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const ADDED_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

/** A label value from an open-ended source, kept to at most MAX_LABEL_VALUES distinct values. */
class BoundedLabel {
  private readonly seen = new Set<string>();
  constructor(initial: Iterable<string> = []) {
    for (const v of initial) this.seen.add(v);
  }
  of(v: string | undefined, none = 'none'): string {
    if (v === undefined || v === '') return none;
    if (this.seen.has(v)) return v;
    if (this.seen.size >= MAX_LABEL_VALUES || !/^[A-Za-z0-9_.:-]{1,64}$/.test(v)) return 'other';
    this.seen.add(v);
    return v;
  }
}

export class AirlockMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'decision' | 'code' | 'grant' | 'host_class'>;
  private readonly upstream: Histogram<'host_class'>;
  private readonly added: Histogram<'decision'>;
  private readonly bytes: Counter<'direction'>;
  private readonly journalWrite: Histogram<'op'>;
  private readonly journalFailures: Counter<'op'>;
  private readonly jwksFailures: Counter;
  private readonly hostClass: HostClass;
  private readonly grants: BoundedLabel;
  private readonly codes = new BoundedLabel();
  // Request counts are plain numbers on the request path, handed to prom-client at scrape time:
  // its inc() hashes the label object on every call.
  private readonly counts = new Map<string, { readonly labels: readonly [string, string, string, string]; n: number }>();
  private readonly bodyBytes = { in: 0, out: 0 };
  // Histogram children by label value: observe({labels}) would hash the label object every time.
  private readonly upstreamBy = new Map<string, Histogram.Internal<string>>();
  private readonly addedBy = new Map<string, Histogram.Internal<string>>();

  constructor(opts: {
    readonly hostClass: HostClass;
    readonly grants: readonly string[];
    readonly sources?: MetricsSources;
    readonly processMetrics?: boolean;
  }) {
    const registers = [this.registry];
    this.hostClass = opts.hostClass;
    this.grants = new BoundedLabel(opts.grants);
    const counts = this.counts;
    const bodyBytes = this.bodyBytes;
    this.requests = new Counter({
      name: 'airlock_requests_total',
      help: 'Intercepted requests by decision, error code, grant and host class.',
      labelNames: ['decision', 'code', 'grant', 'host_class'],
      registers,
      collect() {
        this.reset();
        for (const { labels, n } of counts.values()) this.inc({ decision: labels[0], code: labels[1], grant: labels[2], host_class: labels[3] }, n);
      },
    });
    this.upstream = new Histogram({
      name: 'airlock_upstream_latency_seconds',
      help: 'Time from sending a request upstream to its complete response head (HAR send + wait).',
      labelNames: ['host_class'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.added = new Histogram({
      name: 'airlock_added_latency_seconds',
      help: 'Time spent in Airlock before a response is handed to the client, upstream time excluded.',
      labelNames: ['decision'],
      buckets: ADDED_BUCKETS,
      registers,
    });
    this.bytes = new Counter({
      name: 'airlock_request_bytes_total',
      help: 'Body bytes of intercepted exchanges: in = request bodies from clients, out = response bodies to clients.',
      labelNames: ['direction'],
      registers,
      collect() {
        this.reset();
        this.inc({ direction: 'in' }, bodyBytes.in);
        this.inc({ direction: 'out' }, bodyBytes.out);
      },
    });
    this.journalWrite = new Histogram({
      name: 'airlock_journal_write_seconds',
      help: 'Latency of session journal writes (begin before forwarding, record before responding).',
      labelNames: ['op'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.journalFailures = new Counter({
      name: 'airlock_journal_write_failures_total',
      help: 'Session journal writes that failed (the request was refused or answered RECORDING_*).',
      labelNames: ['op'],
      registers,
    });
    this.jwksFailures = new Counter({
      name: 'airlock_jwks_fetch_failures_total',
      help: "Failed fetches of an issuer's discovery document or JWKS.",
      registers,
    });
    for (const op of ['begin', 'record']) this.journalFailures.inc({ op }, 0);
    this.gauges(opts.sources ?? {}, registers);
    if (opts.processMetrics !== false) {
      collectDefaultMetrics({ register: this.registry, prefix: 'airlock_' });
      // Gauges that prom-client names *_total break Prometheus' naming rules (promtool check
      // metrics); airlock_nodejs_active_handles etc. say little that open_connections does not.
      for (const n of ['active_handles', 'active_requests', 'active_resources']) this.registry.removeSingleMetric(`airlock_nodejs_${n}_total`);
    }
  }

  private gauges(s: MetricsSources, registers: Registry[]): void {
    const now = (): number => s.now?.() ?? Date.now();
    new Gauge({
      name: 'airlock_open_connections',
      help: 'Client connections open on the proxy listeners.',
      registers,
      collect() {
        this.set(s.openConnections?.() ?? 0);
      },
    });
    new Gauge({
      name: 'airlock_open_sessions',
      help: 'Recording sessions open.',
      registers,
      collect() {
        this.set(s.openSessions?.() ?? 0);
      },
    });
    const holds = async (): Promise<readonly { readonly ageSeconds: number }[]> => {
      try {
        return (await s.approvals?.()) ?? [];
      } catch {
        return [];
      }
    };
    new Gauge({
      name: 'airlock_approvals_waiting',
      help: "Requests held for approval (with approvals.bus: every runner's holds on the bus).",
      registers,
      async collect() {
        this.set((await holds()).length);
      },
    });
    new Gauge({
      name: 'airlock_approvals_oldest_age_seconds',
      help: 'Age of the oldest request held for approval (0 when none).',
      registers,
      async collect() {
        this.set((await holds()).reduce((m, h) => Math.max(m, h.ageSeconds), 0));
      },
    });
    // One look at the outbox per scrape, shared by its two gauges (the first to collect starts it).
    let outbox: Promise<{ depth: number; oldestAgeSeconds: number }> | null = null;
    const look = (): Promise<{ depth: number; oldestAgeSeconds: number }> => {
      outbox ??= (s.outbox?.() ?? Promise.resolve({ depth: 0, oldestAgeSeconds: 0 })).catch(() => ({ depth: 0, oldestAgeSeconds: 0 }));
      const p = outbox;
      setImmediate(() => {
        if (outbox === p) outbox = null;
      });
      return p;
    };
    new Gauge({
      name: 'airlock_outbox_depth',
      help: 'Finalized sessions waiting to be shipped to recording.sink.',
      registers,
      async collect() {
        this.set((await look()).depth);
      },
    });
    new Gauge({
      name: 'airlock_outbox_oldest_age_seconds',
      help: 'Age of the oldest session waiting in the outbox (0 when empty).',
      registers,
      async collect() {
        this.set((await look()).oldestAgeSeconds);
      },
    });
    new Gauge({
      // One series per vault entry: the operator's own names, few by nature.
      name: 'airlock_vault_entry_age_seconds',
      help: 'Time since each vaulted key pair was last put (key rotation staleness).',
      labelNames: ['credential'],
      registers,
      collect() {
        this.reset();
        const t = now();
        for (const e of (s.vaultEntries?.() ?? []).slice(0, MAX_LABEL_VALUES)) {
          const at = Date.parse(e.updatedAt);
          if (Number.isFinite(at)) this.labels(e.name).set(Math.max(0, (t - at) / 1000));
        }
      },
    });
  }

  /** Once per intercepted request, when its response is done: the request path's only cost. */
  request(f: RequestFacts, upstreamMs: number | undefined, addedMs: number | undefined): void {
    const hc = this.hostClass(f.host);
    // A Decision (lib/decision.ts): a closed set, bounded by its type.
    const decision = f.decision;
    const code = this.codes.of(f.code);
    const grant = this.grants.of(f.grant);
    const key = `${decision}\n${code}\n${grant}\n${hc}`;
    const c = this.counts.get(key);
    // Bounded: the label sets are capped, so is this map.
    if (c) c.n++;
    else this.counts.set(key, { labels: [decision, code, grant, hc], n: 1 });
    if (f.bytesIn) this.bodyBytes.in += f.bytesIn;
    if (f.bytesOut) this.bodyBytes.out += f.bytesOut;
    if (upstreamMs !== undefined && upstreamMs >= 0) {
      let h = this.upstreamBy.get(hc);
      if (!h) this.upstreamBy.set(hc, (h = this.upstream.labels(hc)));
      h.observe(upstreamMs / 1000);
    }
    if (addedMs !== undefined && addedMs >= 0) {
      let h = this.addedBy.get(decision);
      if (!h) this.addedBy.set(decision, (h = this.added.labels(decision)));
      h.observe(addedMs / 1000);
    }
  }

  journal(op: 'begin' | 'record', ms: number, ok: boolean): void {
    this.journalWrite.observe({ op }, ms / 1000);
    if (!ok) this.journalFailures.inc({ op });
  }

  jwksFailure(): void {
    this.jwksFailures.inc();
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

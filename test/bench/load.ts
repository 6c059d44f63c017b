// The load generator: undici with keep-alive, N requests in flight for a fixed time after a
// warm-up, or one fresh connection per request (raw-client), like a CLI tool.
import { Pool, ProxyAgent, type Dispatcher } from 'undici';
import { oneShot, type Route, type OneShot } from './raw-client.js';

export interface LoadResult {
  readonly requests: number;
  readonly errors: number;
  readonly durationS: number;
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly meanMs: number;
  /** The first error seen, to say why. */
  readonly firstError?: string;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export function summarize(latencies: number[], errors: number, durationS: number, firstError?: string): LoadResult {
  const sorted = latencies.sort((a, b) => a - b);
  const sum = sorted.reduce((a, b) => a + b, 0);
  return {
    requests: sorted.length,
    errors,
    durationS,
    rps: sorted.length / durationS,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    meanMs: sorted.length ? sum / sorted.length : NaN,
    ...(firstError !== undefined ? { firstError } : {}),
  };
}

/** A keep-alive dispatcher for a route: a Pool straight to the upstream, or a ProxyAgent. */
export function dispatcherFor(route: Route, ca: string, host: string): Dispatcher {
  const common = { keepAliveTimeout: 60_000, keepAliveMaxTimeout: 60_000, pipelining: 1 };
  if (route.kind === 'direct') {
    return new Pool(`https://127.0.0.1:${route.port}`, { ...common, connect: { ca, servername: host } });
  }
  return new ProxyAgent({
    uri: `http://127.0.0.1:${route.port}`,
    ...(route.proxyAuthorization ? { token: route.proxyAuthorization } : {}),
    requestTls: { ca, servername: host },
    ...common,
  });
}

export interface KeepAliveLoad {
  readonly route: Route;
  readonly req: OneShot;
  readonly concurrency: number;
  readonly warmupMs: number;
  readonly durationMs: number;
}

/** Runs `concurrency` loops of request-then-read-the-body; counts what completes inside the window. */
export async function keepAliveLoad(l: KeepAliveLoad, during?: (phase: 'measure' | 'done') => void): Promise<LoadResult> {
  const d = dispatcherFor(l.route, l.req.ca, l.req.host);
  const origin = l.route.kind === 'direct' ? `https://127.0.0.1:${l.route.port}` : `https://${l.req.host}`;
  const headers = { ...l.req.headers, host: l.req.host };
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  let measuring = false;
  let stop = false;
  const worker = async (): Promise<void> => {
    while (!stop) {
      const t0 = performance.now();
      try {
        const res = await d.request({ origin, path: l.req.path, method: 'GET', headers });
        await res.body.dump({ limit: Infinity });
        if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}`);
        if (measuring && !stop) latencies.push(performance.now() - t0);
      } catch (err) {
        if (measuring && !stop) errors++;
        firstError ??= (err as Error).message;
        // Do not spin on a refusing proxy.
        await new Promise((r) => setTimeout(r, 10));
      }
    }
  };
  const workers = Array.from({ length: l.concurrency }, () => worker());
  await new Promise((r) => setTimeout(r, l.warmupMs));
  measuring = true;
  during?.('measure');
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, l.durationMs));
  stop = true;
  const durationS = (performance.now() - t0) / 1000;
  during?.('done');
  await Promise.all(workers);
  await d.close();
  return summarize(latencies, errors, durationS, firstError);
}

/**
 * One request per fresh connection (TCP, CONNECT, TLS), one at a time: what a CLI does. With
 * `concurrency` (default 1), that many such clients side by side (CI jobs sharing one proxy).
 */
export async function newConnectionLoad(
  l: Omit<KeepAliveLoad, 'concurrency'> & { readonly concurrency?: number },
  during?: (phase: 'measure' | 'done') => void,
): Promise<LoadResult> {
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  const until = (ms: number, keep: boolean): Promise<void> =>
    (async () => {
      const end = performance.now() + ms;
      while (performance.now() < end) {
        try {
          const r = await oneShot(l.route, l.req);
          if (r.status !== 200) throw new Error(`status ${r.status}`);
          if (keep) latencies.push(r.ms);
        } catch (err) {
          if (keep) errors++;
          firstError ??= (err as Error).message;
          await new Promise((r) => setTimeout(r, 10));
        }
      }
    })();
  // Every client finishes its warm-up before the window opens, and its last request before it
  // closes, so the CPU measured between the two callbacks is that of the counted requests.
  const clients = async (ms: number, keep: boolean): Promise<void> => {
    await Promise.all(Array.from({ length: l.concurrency ?? 1 }, () => until(ms, keep)));
  };
  await clients(l.warmupMs, false);
  during?.('measure');
  const t0 = performance.now();
  await clients(l.durationMs, true);
  const durationS = (performance.now() - t0) / 1000;
  during?.('done');
  return summarize(latencies, errors, durationS, firstError);
}

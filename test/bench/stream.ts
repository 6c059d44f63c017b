// One large response (the upstream's /big endpoint) through a proxy, or straight to the upstream:
// MB/s and the proxy's RSS growth. Used by bench.ts (the scaling section) and ab.ts --stream.
// With a coding the upstream sends the body compressed (coded-body.ts): Airlock hands the client
// the decoded bytes, a proxy that forwards it untouched the coded ones; MB/s is of the plain body
// either way (what the client has once it is decoded).
import { request as undiciRequest } from 'undici';
import { rssMb, RssSampler } from './proc.js';
import { dispatcherFor } from './load.js';
import type { Route, OneShot } from './raw-client.js';
import type { BenchCoding } from './coded-body.js';

export interface StreamFigures {
  /** The plain body's size. */
  readonly bytes: number;
  /** What reached the client: the plain body, or the coded one if the proxy forwarded it coded. */
  readonly received: number;
  readonly seconds: number;
  readonly mbPerS: number;
  readonly rssBeforeMb: number;
  readonly peakRssMb: number;
  readonly growthMb: number;
  readonly error?: string;
}

/** `during` is told when the measured window starts and ends (ab.ts reads the proxy's CPU time there). */
export async function streamBig(
  pid: number,
  route: Route,
  req: OneShot,
  bytes: number,
  during?: (phase: 'measure' | 'done') => void,
  coding?: BenchCoding,
): Promise<StreamFigures> {
  const d = dispatcherFor(route, req.ca, req.host);
  const origin = route.kind === 'direct' ? `https://127.0.0.1:${route.port}` : `https://${req.host}`;
  // One small request first so the connection and session exist before the baseline.
  const warm = await undiciRequest(`${origin}/api/v1/validate`, { dispatcher: d, headers: { ...req.headers, host: req.host } });
  await warm.body.dump();
  await new Promise((r) => setTimeout(r, 300));
  const rssBeforeMb = rssMb(pid);
  const sampler = new RssSampler(pid, 50);
  during?.('measure');
  const t0 = performance.now();
  let received = 0;
  let expected = bytes;
  let error: string | undefined;
  try {
    const res = await undiciRequest(`${origin}/big?bytes=${bytes}${coding !== undefined ? `&coding=${coding}` : ''}`, {
      dispatcher: d,
      headers: { ...req.headers, host: req.host },
      headersTimeout: 120_000,
      bodyTimeout: 60_000,
    });
    // Forwarded coded: the whole coded body is what the client must get.
    if (res.headers['content-encoding'] !== undefined) expected = Number(res.headers['content-length']);
    for await (const chunk of res.body) received += (chunk as Buffer).length;
    if (res.statusCode !== 200) error = `status ${res.statusCode}`;
  } catch (err) {
    error = (err as Error).message;
  }
  const seconds = (performance.now() - t0) / 1000;
  during?.('done');
  const peakRssMb = sampler.stop();
  await d.close();
  if (received !== expected) error ??= `received ${received} of ${expected} bytes`;
  return {
    bytes,
    received,
    seconds,
    mbPerS: (received === expected ? bytes : 0) / 1048576 / seconds,
    rssBeforeMb,
    peakRssMb,
    growthMb: peakRssMb - rssBeforeMb,
    ...(error !== undefined ? { error } : {}),
  };
}

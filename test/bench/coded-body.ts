// The bench upstream's coded large body (`/big?bytes=N&coding=gzip|br|deflate`): N bytes of plain
// text shaped like a log search's JSON lines (timestamps, hosts, hex ids: it compresses about as
// well as Datadog's answers do, not like a run of one letter), compressed once per size and coding
// and kept, so the upstream spends no CPU compressing while a proxy is measured.
import zlib from 'node:zlib';
import { streamBytes, writeParts } from '../fixtures/stream-bytes.js';
import type { ServerResponse } from 'node:http';

export const BENCH_CODINGS = ['gzip', 'br', 'deflate'] as const;
export type BenchCoding = (typeof BENCH_CODINGS)[number];

/** Larger than brotli's default window (4 MiB), so a repeat of the block is not a free match. */
const BLOCK_BYTES = 8 * 1024 * 1024;
let block: Buffer | undefined;

/** Deterministic (xorshift32) so every run compresses the same text to the same size. */
function plainBlock(): Buffer {
  if (block) return block;
  let x = 0x9e3779b9;
  const next = (): number => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
  const hosts = ['web-1', 'web-2', 'api-7', 'worker-3', 'db-proxy'];
  const levels = ['info', 'info', 'info', 'warn', 'error'];
  const lines: string[] = [];
  let size = 0;
  for (let t = 1_733_600_000_000; size < BLOCK_BYTES; t += next() % 997) {
    const r = next();
    const line = `{"timestamp":${t},"host":"${hosts[r % 5]!}","service":"checkout","status":"${levels[(r >>> 3) % 5]!}","trace_id":"${next().toString(16)}${next().toString(16)}","message":"GET /api/v2/cart/${r % 100_000} ${200 + (r % 3) * 100} in ${r % 900} ms"}\n`;
    lines.push(line);
    size += line.length;
  }
  block = Buffer.from(lines.join(''), 'latin1').subarray(0, BLOCK_BYTES);
  return block;
}

function compressor(coding: BenchCoding): zlib.Gzip | zlib.BrotliCompress | zlib.Deflate {
  // Quality 5: what a server compressing on the fly uses (11, the default, is for static files).
  if (coding === 'br') return zlib.createBrotliCompress({ params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 5 } });
  return coding === 'gzip' ? zlib.createGzip() : zlib.createDeflate();
}

const cache = new Map<string, Promise<Buffer>>();

/** `bytes` of the plain text, compressed with `coding` (built on first use, then kept). */
export function codedBody(coding: BenchCoding, bytes: number): Promise<Buffer> {
  const key = `${coding}:${bytes}`;
  let p = cache.get(key);
  if (!p) {
    p = new Promise<Buffer>((resolve, reject) => {
      const z = compressor(coding);
      const out: Buffer[] = [];
      z.on('data', (c: Buffer) => out.push(c));
      z.on('end', () => resolve(Buffer.concat(out)));
      z.on('error', reject);
      streamBytes(z, bytes, plainBlock());
    });
    cache.set(key, p);
  }
  return p;
}

/** Writes the coded body with backpressure, in 64 KiB writes (as streamBytes writes the plain one). */
export function sendCoded(res: ServerResponse, coding: BenchCoding, all: Buffer): void {
  res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': coding, 'content-length': all.length });
  let at = 0;
  writeParts(res, () => {
    if (at >= all.length) return null;
    const part = all.subarray(at, at + 64 * 1024);
    at += part.length;
    return part;
  });
}

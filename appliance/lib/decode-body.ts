import zlib from 'node:zlib';

export type DecodeResult = { readonly ok: true; readonly bytes: Buffer } | { readonly ok: false; readonly reason: string };

export const DECODABLE_ENCODINGS: ReadonlySet<string> = new Set(['gzip', 'x-gzip', 'deflate', 'br']);

/**
 * Decode content-encoded bytes with a cap on the output (a small gzip can expand enormously).
 * `partial` decodes what a cut-off stream holds instead of failing at its missing end.
 */
export function decodeContent(bytes: Buffer, encoding: string, opts: { readonly maxOutputBytes: number; readonly partial: boolean }): DecodeResult {
  const zopts: zlib.ZlibOptions = { maxOutputLength: Math.max(1, opts.maxOutputBytes) };
  if (opts.partial) zopts.finishFlush = zlib.constants.Z_SYNC_FLUSH;
  try {
    switch (encoding) {
      case 'gzip':
      case 'x-gzip':
        return { ok: true, bytes: zlib.gunzipSync(bytes, zopts) };
      case 'deflate':
        try {
          return { ok: true, bytes: zlib.inflateSync(bytes, zopts) };
        } catch (err) {
          // Some servers send raw deflate without the zlib wrapper.
          if (err instanceof RangeError) throw err;
          return { ok: true, bytes: zlib.inflateRawSync(bytes, zopts) };
        }
      case 'br': {
        const bopts: zlib.BrotliOptions = { maxOutputLength: zopts.maxOutputLength ?? 1 };
        if (opts.partial) bopts.finishFlush = zlib.constants.BROTLI_OPERATION_FLUSH;
        return { ok: true, bytes: zlib.brotliDecompressSync(bytes, bopts) };
      }
      default:
        return { ok: false, reason: `unsupported content-encoding ${JSON.stringify(encoding.slice(0, 40))}` };
    }
  } catch (err) {
    if (err instanceof RangeError) return { ok: false, reason: `decoded size exceeds ${opts.maxOutputBytes} bytes` };
    const code = (err as { code?: unknown }).code;
    return { ok: false, reason: `corrupt ${encoding} data${typeof code === 'string' ? ` (${code})` : ''}` };
  }
}

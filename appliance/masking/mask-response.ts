// Masks an upstream response before it reaches the agent and before it is recorded. A body held
// in full (within recording.maxBodyBytes) is decoded, masked and sent identity-encoded with a
// correct Content-Length; a larger one streams through a decoder and a streaming masker. When
// masking cannot be done (a JSON-path rule on a body too large to parse, an unknown
// Content-Encoding, a corrupt body) the answer is 502 MASKING_UNAVAILABLE: never the raw bytes.
import type http from 'node:http';
import zlib from 'node:zlib';
import { Readable, Transform, type Duplex } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AirlockError } from '../errors.js';
import type { Logger } from '../log.js';
import type { CapturedBody } from '../recording/types.js';
import { decodeContent, DECODABLE_ENCODINGS } from '../recording/decode-body.js';
import { endToEndHeaders, headerValue } from '../proxy/headers.js';
import { isJson, maskJsonPaths, type JsonPathRule } from './json-path-mask.js';
import { maskBuffer, maskStep, textMasker, type MaskRegexes } from './mask-text.js';
import { maskStream } from './mask-stream.js';

export interface MaskRules {
  readonly regexes: MaskRegexes;
  readonly jsonPaths: readonly JsonPathRule[];
}

export interface ResponseIn {
  readonly method: string;
  readonly status: number;
  readonly statusText: string;
  readonly rawHeaders: readonly string[];
  readonly held: readonly Buffer[];
  readonly rest: Readable | null;
}

export interface MaskedResponse {
  readonly rawHeaders: string[];
  /** What the agent will see, as recorded. */
  readonly body: CapturedBody;
  /** Rule names that fired (`credential` for vaulted secrets). */
  readonly fired: string[];
  /** Writes the response; resolves with the body bytes sent. */
  deliver(res: http.ServerResponse, log: Logger): Promise<number>;
}

const DECODED_CAP_FACTOR = 16;
const NO_REGEXES: MaskRegexes = [];
/** For callers without masking rules: one object, so compiled maskers are reused. */
export const NO_MASK_RULES: MaskRules = { regexes: NO_REGEXES, jsonPaths: [] };

function without(raw: readonly string[], names: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (!names.includes(raw[i]!.toLowerCase())) out.push(raw[i]!, raw[i + 1]!);
  }
  return out;
}

function decoder(encoding: string): Duplex {
  if (encoding === 'br') return zlib.createBrotliDecompress();
  if (encoding === 'deflate') return zlib.createInflate();
  return zlib.createGunzip();
}

function bodyless(method: string, status: number): boolean {
  return method.toUpperCase() === 'HEAD' || status === 204 || status === 304 || (status >= 100 && status < 200);
}

export function maskResponse(r: ResponseIn, secrets: readonly string[], rules: MaskRules, maxBodyBytes: number): MaskedResponse {
  const fired = new Set<string>();
  const credentialOnly = textMasker(secrets, NO_REGEXES);
  const raw: string[] = [];
  for (let i = 0; i + 1 < r.rawHeaders.length; i += 2) {
    const s = maskStep(credentialOnly, r.rawHeaders[i + 1]!, true);
    for (const f of s.fired) fired.add(f);
    raw.push(r.rawHeaders[i]!, s.out);
  }
  const body = textMasker(secrets, rules.regexes);
  const held = Buffer.concat(r.held as Buffer[]);
  const capture = (bytes: Buffer, truncated: boolean, size = bytes.length): CapturedBody => ({
    size,
    bytes: bytes.subarray(0, maxBodyBytes),
    truncated: truncated || bytes.length > maxBodyBytes,
  });

  if (bodyless(r.method, r.status)) {
    return complete(r, raw, held, capture(held, false), fired, false);
  }
  const encodingHeader = (headerValue(r.rawHeaders, 'content-encoding') ?? '').trim().toLowerCase();
  const encoding = encodingHeader === 'identity' ? '' : encodingHeader;
  if (encoding !== '' && !DECODABLE_ENCODINGS.has(encoding)) {
    throw new AirlockError('MASKING_UNAVAILABLE', `content-encoding ${JSON.stringify(encoding.slice(0, 40))} cannot be decoded for masking`);
  }
  const ct = headerValue(r.rawHeaders, 'content-type');
  const jsonRules = rules.jsonPaths.length > 0 && (isJson(ct) || ct === undefined);
  const cap = Math.max(DECODED_CAP_FACTOR * maxBodyBytes, 8 * 1024 * 1024);

  if (r.rest === null) {
    let plain: Buffer = held;
    if (encoding !== '') {
      const d = decodeContent(held, encoding, { maxOutputBytes: cap, partial: false });
      if (!d.ok) throw new AirlockError('MASKING_UNAVAILABLE', `the ${encoding} body could not be decoded (${d.reason})`);
      plain = d.bytes;
    }
    if (jsonRules) {
      const j = maskJsonPaths(rules.jsonPaths, plain.toString('utf8'));
      if (j) {
        plain = Buffer.from(j.text, 'utf8');
        for (const f of j.fired) fired.add(f);
      }
    }
    const m = maskBuffer(body, plain);
    for (const f of m.fired) fired.add(f);
    const changed = encoding !== '' || m.bytes !== held;
    let headers = raw;
    if (changed) {
      headers = without(raw, ['content-encoding', 'content-length', 'transfer-encoding']);
      headers.push('content-length', String(m.bytes.length));
    }
    return complete(r, headers, m.bytes, capture(m.bytes, false), fired, true);
  }

  if (jsonRules) {
    r.rest.destroy();
    throw new AirlockError('MASKING_UNAVAILABLE', `a JSON-path masking rule needs the whole body, and it is larger than recording.maxBodyBytes (${maxBodyBytes})`);
  }
  // Recorded: the masked form of the prefix in hand (the agent sees the same bytes, streamed).
  let prefix: Buffer = held;
  if (encoding !== '') {
    const d = decodeContent(held, encoding, { maxOutputBytes: cap, partial: true });
    prefix = d.ok ? d.bytes : Buffer.alloc(0);
  }
  const recorded = maskBuffer(body, prefix);
  for (const f of recorded.fired) fired.add(f);
  const headers = without(raw, encoding !== '' ? ['content-encoding', 'content-length'] : ['content-length']);
  const rest = r.rest;
  return {
    rawHeaders: headers,
    body: { size: recorded.bytes.length, bytes: recorded.bytes.subarray(0, maxBodyBytes), truncated: true },
    fired: [...fired],
    async deliver(res, log) {
      let bytes = 0;
      res.writeHead(r.status, r.statusText, endToEndHeaders(headers));
      const counter = new Transform({
        transform(chunk: Buffer, _e, cb) {
          bytes += chunk.length;
          cb(null, chunk);
        },
      });
      async function* source(): AsyncGenerator<Buffer> {
        yield* r.held;
        yield* rest as AsyncIterable<Buffer>;
      }
      const stages: (NodeJS.ReadableStream | NodeJS.WritableStream | Duplex)[] = [Readable.from(source(), { objectMode: false })];
      if (encoding !== '') stages.push(decoder(encoding));
      stages.push(maskStream(body, new Set()), counter, res);
      try {
        await (pipeline as (...s: unknown[]) => Promise<void>)(...stages);
      } catch (err) {
        log.debug({ code: (err as NodeJS.ErrnoException).code }, 'masked response stream ended early');
      }
      return bytes;
    },
  };
}

function complete(r: ResponseIn, headers: string[], bytes: Buffer, body: CapturedBody, fired: Set<string>, _masked: boolean): MaskedResponse {
  return {
    rawHeaders: headers,
    body,
    fired: [...fired],
    deliver(res) {
      res.writeHead(r.status, r.statusText, endToEndHeaders(headers));
      res.end(bytes);
      return Promise.resolve(bytes.length);
    },
  };
}

// Masks an upstream response before it reaches the agent and before it is recorded: the reason
// phrase and headers (mask-head.ts), and the body under every coding it carries
// (response-codings.ts: all Content-Encoding and Transfer-Encoding layers, undone in order). A
// body held in full (within recording.maxBodyBytes) is decoded, masked and sent with the codings
// removed and a correct Content-Length; a larger one streams through the decoders and a streaming
// masker. A coding that cannot be decoded, a corrupt body, or one that decodes beyond the cap is
// 502 UPSTREAM_ENCODING; a JSON-path rule on a body too large to parse is 502
// MASKING_UNAVAILABLE: never the raw bytes.
import type http from 'node:http';
import type { Readable } from 'node:stream';
import { AirlockError } from '../errors.js';
import type { Logger } from '../log.js';
import type { CapturedBody } from '../lib/exchange-types.js';
import { decodeContent } from '../lib/decode-body.js';
import { endToEndHeaders, headerValue } from '../lib/headers.js';
import { isJson, maskJsonPaths, type JsonPathRule } from './json-path-mask.js';
import { maskBuffer, textMasker, type MaskRegexes } from './mask-text.js';
import { StreamMasker } from './mask-stream.js';
import { decodedBody } from './decoded-body.js';
import { pumpMasked } from './pump-masked.js';
import { maskHead } from './mask-head.js';
import { codingsToUndo } from './response-codings.js';

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
  /** The reason phrase, masked. */
  readonly statusText: string;
  readonly rawHeaders: string[];
  /** What the agent will see, as recorded. */
  readonly body: CapturedBody;
  /** Rule names that fired (`credential` for vaulted secrets, `header-name-dropped` for a header dropped for its name). */
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

/** Undoes `codings` (decoding order) on a body held in full; each layer's output is capped. */
function decodeAll(bytes: Buffer, codings: readonly string[], cap: number, partial: boolean): Buffer {
  // An empty body carries nothing to mask (servers send `Content-Encoding: gzip` with no bytes).
  if (bytes.length === 0) return bytes;
  let out = bytes;
  for (const c of codings) {
    const d = decodeContent(out, c, { maxOutputBytes: cap, partial });
    if (!d.ok) throw new AirlockError('UPSTREAM_ENCODING', `the ${codings.join(', ')} body could not be decoded: ${d.reason}`);
    out = d.bytes;
  }
  return out;
}

const FRAMING = ['content-encoding', 'content-length', 'transfer-encoding'];

function bodyless(method: string, status: number): boolean {
  return method.toUpperCase() === 'HEAD' || status === 204 || status === 304 || (status >= 100 && status < 200);
}

export function maskResponse(r: ResponseIn, secrets: readonly string[], rules: MaskRules, maxBodyBytes: number): MaskedResponse {
  const fired = new Set<string>();
  const credentialOnly = textMasker(secrets, NO_REGEXES);
  const head = maskHead(r.statusText, r.rawHeaders, credentialOnly, fired);
  const raw = head.rawHeaders;
  const body = textMasker(secrets, rules.regexes);
  const held = Buffer.concat(r.held);
  const capture = (bytes: Buffer, truncated: boolean, size = bytes.length): CapturedBody => ({
    size,
    bytes: bytes.subarray(0, maxBodyBytes),
    truncated: truncated || bytes.length > maxBodyBytes,
  });

  if (bodyless(r.method, r.status)) {
    return complete(r.status, head.statusText, raw, held, capture(held, false), fired);
  }
  const codings = codingsToUndo(r.rawHeaders, credentialOnly);
  const ct = headerValue(r.rawHeaders, 'content-type');
  const jsonRules = rules.jsonPaths.length > 0 && (isJson(ct) || ct === undefined);
  const cap = Math.max(DECODED_CAP_FACTOR * maxBodyBytes, 8 * 1024 * 1024);

  if (r.rest === null) {
    let plain = decodeAll(held, codings, cap, false);
    if (jsonRules) {
      const j = maskJsonPaths(rules.jsonPaths, plain.toString('utf8'));
      if (j) {
        plain = Buffer.from(j.text, 'utf8');
        for (const f of j.fired) fired.add(f);
      }
    }
    const m = maskBuffer(body, plain);
    for (const f of m.fired) fired.add(f);
    const changed = codings.length > 0 || m.bytes !== held;
    let headers = raw;
    if (changed) {
      headers = without(raw, FRAMING);
      headers.push('content-length', String(m.bytes.length));
    }
    return complete(r.status, head.statusText, headers, m.bytes, capture(m.bytes, false), fired);
  }

  if (jsonRules) {
    r.rest.destroy();
    throw new AirlockError(
      'MASKING_UNAVAILABLE',
      `a JSON-path masking rule needs the whole body, and it is larger than recording.maxBodyBytes (${maxBodyBytes})`,
    );
  }
  // Recorded: the masked form of the prefix in hand (the agent sees the same bytes, streamed).
  let prefix: Buffer = held;
  if (codings.length > 0) {
    try {
      prefix = decodeAll(held, codings, cap, true);
    } catch {
      prefix = Buffer.alloc(0);
    }
  }
  const recorded = maskBuffer(body, prefix);
  for (const f of recorded.fired) fired.add(f);
  const headers = without(raw, codings.length > 0 ? FRAMING : ['content-length']);
  const rest = r.rest;
  return {
    statusText: head.statusText,
    rawHeaders: headers,
    body: { size: recorded.bytes.length, bytes: recorded.bytes.subarray(0, maxBodyBytes), truncated: true },
    fired: [...fired],
    async deliver(res, log) {
      res.writeHead(r.status, head.statusText, endToEndHeaders(headers));
      // Coded: the decoders' output takes the same pump (decoded-body.ts).
      const source = codings.length === 0 ? rest : decodedBody(r.held, rest, codings);
      const p = await pumpMasked(codings.length === 0 ? r.held : [], source, new StreamMasker(body, new Set()), res);
      // A corrupt layer, an upstream or client gone mid-stream: the client sees a cut body, never raw bytes.
      if (p.error) log.debug({ code: p.error.code }, 'masked response stream ended early');
      return p.bytes;
    },
  };
}

function complete(status: number, statusText: string, headers: string[], bytes: Buffer, body: CapturedBody, fired: Set<string>): MaskedResponse {
  return {
    statusText,
    rawHeaders: headers,
    body,
    fired: [...fired],
    deliver(res) {
      res.writeHead(status, statusText, endToEndHeaders(headers));
      res.end(bytes);
      return Promise.resolve(bytes.length);
    },
  };
}

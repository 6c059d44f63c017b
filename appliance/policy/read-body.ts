// Reads a request body into memory for a `when:` condition or an approval hold, up to a cap,
// and turns it into facts a condition can test. Past the cap it stops: the caller fails closed.
import type { Readable } from 'node:stream';
import { decodeContent, DECODABLE_ENCODINGS } from '../lib/decode-body.js';
import type { BodyFacts } from './conditions.js';
import { readCapped } from '../lib/read-capped.js';

export type ReadBody =
  | { readonly ok: true; readonly bytes: Buffer }
  /** `consumed`: what was read before giving up, to put back in front of the rest of the stream. */
  | { readonly ok: false; readonly reason: string; readonly consumed: Buffer };

export async function readBody(req: Readable, cap: number): Promise<ReadBody> {
  const r = await readCapped(req, cap);
  if (r.ok) return r;
  const reason =
    r.why === 'too-large'
      ? `the request body is larger than recording.maxBodyBytes (${cap})`
      : `the request body could not be read (${r.detail ?? 'the client went away'})`;
  return { ok: false, reason, consumed: r.consumed };
}

export function bodyFacts(bytes: Buffer, contentEncoding: string | undefined, cap: number): BodyFacts {
  let plain = bytes;
  const enc = (contentEncoding ?? '').trim().toLowerCase();
  if (enc !== '' && enc !== 'identity') {
    if (!DECODABLE_ENCODINGS.has(enc)) return { state: 'unreadable', reason: `content-encoding ${JSON.stringify(enc.slice(0, 40))}` };
    const d = decodeContent(bytes, enc, { maxOutputBytes: cap, partial: false });
    if (!d.ok) return { state: 'unreadable', reason: d.reason };
    plain = d.bytes;
  }
  if (plain.length === 0) return { state: 'json', value: undefined };
  try {
    return { state: 'json', value: JSON.parse(plain.toString('utf8')) as unknown };
  } catch {
    return { state: 'unreadable', reason: 'the body is not JSON' };
  }
}

// Which codings stand between a response's bytes (as Node hands them over) and its plain text.
// Content codings are applied first and transfer codings last (RFC 9110 8.4, RFC 9112 6.1), so
// they are undone in the reverse order of their listing: transfer codings (all Transfer-Encoding
// lines, joined) then content codings (all Content-Encoding lines, joined). A final `chunked` has
// already been undone by Node's parser; `identity` is no coding at all. Anything else that cannot
// be decoded here could hide a key from masking, so it is refused (fail closed), never passed on.
import { AirlockError } from '../errors.js';
import { DECODABLE_ENCODINGS } from '../lib/decode-body.js';
import { maskStep, type TextMasker } from './mask-text.js';

/** More stacked codings than this are refused: each layer multiplies what a small body can expand to. */
export const MAX_CODINGS = 4;

function listed(raw: readonly string[], name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (raw[i]!.toLowerCase() !== name) continue;
    for (const t of raw[i + 1]!.split(',')) {
      const c = t.trim().toLowerCase();
      if (c !== '') out.push(c);
    }
  }
  return out;
}

/**
 * The codings to decode, in decoding order (outermost first). Throws UPSTREAM_ENCODING for a
 * coding that cannot be decoded; `credential` masks the coding's name in the error's detail
 * (a reflecting upstream can name a coding after the key).
 */
export function codingsToUndo(raw: readonly string[], credential: TextMasker): string[] {
  const transfer = listed(raw, 'transfer-encoding');
  if (transfer[transfer.length - 1] === 'chunked') transfer.pop();
  const applied = [...listed(raw, 'content-encoding'), ...transfer].filter((c) => c !== 'identity');
  for (const c of applied) {
    if (!DECODABLE_ENCODINGS.has(c)) {
      const name = maskStep(credential, c, true).out.slice(0, 40);
      throw new AirlockError('UPSTREAM_ENCODING', `the coding ${JSON.stringify(name)} cannot be decoded for masking`);
    }
  }
  if (applied.length > MAX_CODINGS) {
    throw new AirlockError('UPSTREAM_ENCODING', `${applied.length} stacked codings, more than the ${MAX_CODINGS} Airlock decodes`);
  }
  return applied.reverse();
}

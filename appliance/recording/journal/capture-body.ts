import { asText } from './body-text.js';
import { decodeContent } from '../../lib/decode-body.js';
import type { JournalBody } from './journal-types.js';
import {
  redactBytes,
  redactQueryString,
  redactText,
  redactTruncatedTail,
  withKeyShapes,
  placeholder,
  KEY_SHAPE_LABEL,
  type PreparedSecrets,
} from '../../secrets/redact.js';
import { findKeyShapes, redactKeyShapedTail } from '../../secrets/key-shape.js';
import type { CapturedBody, HeaderPair } from '../../lib/exchange-types.js';

export interface BodyLimits {
  /** Cap on the decoded size of a content-encoded body. */
  readonly maxDecodedBytes: number;
}

export function headerValue(headers: readonly HeaderPair[], name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const [n, v] of headers) if (n.toLowerCase() === lower) return v;
  return undefined;
}

function contentEncodingOf(headers: readonly HeaderPair[]): string | undefined {
  const v = headerValue(headers, 'content-encoding')?.trim().toLowerCase();
  return v && v !== 'identity' ? v : undefined;
}

function isForm(headers: readonly HeaderPair[]): boolean {
  return /^application\/x-www-form-urlencoded\b/i.test(headerValue(headers, 'content-type')?.trim() ?? '');
}

/**
 * A captured body in its stored, redacted form. Content-encoded bodies are decoded first because
 * only the decoded form can be searched for secrets; the redacted decoded form replaces the wire
 * bytes. When decoding fails the wire bytes are kept as base64 with a note saying why.
 *
 * `keyShapes` is given for the agent's request body: every key-shaped value in it (the decoded
 * form, searched as text even when stored as base64) is added to the set and redacted.
 */
export function captureBody(
  body: CapturedBody,
  headers: readonly HeaderPair[],
  secrets: PreparedSecrets,
  limits: BodyLimits,
  keyShapes?: Set<string>,
): JournalBody {
  const enc = contentEncodingOf(headers);
  // Nothing captured (a GET's request body, a 204): nothing to decode, search or redact. The same
  // object the full path builds for it, member for member.
  if (body.bytes.length === 0) {
    return enc
      ? { wireSize: body.size, capturedBytes: 0, truncated: body.truncated, contentEncoding: enc, contentSize: body.size, text: '' }
      : { wireSize: body.size, capturedBytes: 0, truncated: body.truncated, contentSize: body.size, text: '' };
  }
  const base = { wireSize: body.size, capturedBytes: body.bytes.length, truncated: body.truncated, ...(enc ? { contentEncoding: enc } : {}) };
  let content = body.bytes;
  let decoded = false;
  let note: string | undefined;
  if (enc && body.bytes.length > 0) {
    const r = decodeContent(body.bytes, enc, { maxOutputBytes: limits.maxDecodedBytes, partial: body.truncated });
    if (r.ok) {
      content = r.bytes;
      decoded = true;
      if (body.truncated) note = `decoded prefix of a ${enc} body cut at the recording cap`;
    } else {
      note = `the ${enc} body could not be decoded (${r.reason}); the wire bytes are kept as base64`;
      return {
        ...base,
        contentSize: body.size,
        note,
        base64: redactBytes(body.bytes, withShapesOf(body.bytes, secrets, keyShapes)).toString('base64'),
      };
    }
  }
  const flags = { ...(decoded ? { decoded: true } : {}), ...(note ? { note } : {}) };
  const contentSize = decoded ? content.length : body.size;
  const raw = asText(content, body.truncated);
  if (raw === null) {
    return { ...base, contentSize, ...flags, base64: redactBytes(content, withShapesOf(content, secrets, keyShapes)).toString('base64') };
  }
  const all = withShapesIn(raw, secrets, keyShapes);
  let text = isForm(headers) ? redactQueryString(raw) : raw;
  text = redactText(text, all);
  if (body.truncated) text = redactTruncatedTail(text, all);
  // A key cut by the cap is no longer key-shaped; its first part must not be kept either.
  if (body.truncated && keyShapes) text = redactKeyShapedTail(text, placeholder(KEY_SHAPE_LABEL));
  return { ...base, contentSize, ...flags, text };
}

function withShapesIn(text: string, secrets: PreparedSecrets, keyShapes: Set<string> | undefined): PreparedSecrets {
  if (!keyShapes) return secrets;
  for (const v of findKeyShapes(text)) keyShapes.add(v);
  return withKeyShapes(secrets, keyShapes);
}

/** Key shapes are ASCII, so searching binary bytes as latin1 finds them. */
function withShapesOf(bytes: Buffer, secrets: PreparedSecrets, keyShapes: Set<string> | undefined): PreparedSecrets {
  return keyShapes ? withShapesIn(bytes.toString('latin1'), secrets, keyShapes) : secrets;
}

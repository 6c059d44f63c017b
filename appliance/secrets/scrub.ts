// The one scrubber: finds known secret values (the job's token, the vaulted keys, whatever the
// agent sent as a key) in text or bytes and replaces them. The recording's redaction
// (secrets/redact.ts: `[redacted:<label>]`) and the response masking (masking/mask-text.ts:
// `[masked:credential]`) both take their needles from here, so which values count (the minimum
// length), which forms of them are searched (as written, and percent-encoded) and in which order
// (longest first) are decided once.

import type { Secret } from '../lib/exchange-types.js';

/** Shorter values would wreck ordinary text (and no real credential is that short). */
export const MIN_SECRET_LENGTH = 8;

interface PreparedSecret extends Secret {
  /** The percent-encoded form when it differs (a secret echoed in a URL), else null. */
  readonly encoded: string | null;
}

export interface PreparedSecrets {
  /** Longest first, so a secret that contains another is replaced whole. */
  readonly list: readonly PreparedSecret[];
}

// The proxy hands the same array to begin() and record(): prepare it once per exchange. The
// length is checked too, so an array that grew since (more secrets) is never served stale.
const prepared = new WeakMap<readonly Secret[], { readonly length: number; readonly out: PreparedSecrets }>();
// And one job's exchanges carry the same token and vault key, in new arrays each time: a bounded
// cache by content spares the percent-encoding and sorting per exchange. Found by the first
// value (the vaulted key, the same string every time) and then compared label by label and value
// by value: no key string is built (joining a JWT into one, then hashing it, cost more than what
// the cache saves).
const BY_CONTENT_MAX = 256;
interface ByContent {
  readonly source: readonly Secret[];
  readonly out: PreparedSecrets;
}
const byContent = new Map<string, ByContent[]>();
let byContentSize = 0;

function sameContent(a: readonly Secret[], b: readonly Secret[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.value !== y.value || x.label !== y.label) return false;
  }
  return true;
}

/** Once per exchange: everything per secret that does not depend on the text being scrubbed. */
export function prepareSecrets(secrets: readonly Secret[]): PreparedSecrets {
  const cached = prepared.get(secrets);
  if (cached && cached.length === secrets.length) return cached.out;
  const first = secrets[0]?.value;
  const bucketKey = typeof first === 'string' ? first : '';
  let bucket = byContent.get(bucketKey);
  let out = bucket?.find((e) => sameContent(e.source, secrets))?.out;
  if (!out) {
    out = prepareSecretsUncached(secrets);
    if (byContentSize >= BY_CONTENT_MAX) {
      byContent.clear();
      byContentSize = 0;
      bucket = undefined;
    }
    // A copy: a caller that changes its array or its objects later cannot change what the entry stands for.
    const entry: ByContent = { source: secrets.map((x) => ({ value: x.value, label: x.label })), out };
    if (bucket) bucket.push(entry);
    else byContent.set(bucketKey, [entry]);
    byContentSize++;
  }
  prepared.set(secrets, { length: secrets.length, out });
  return out;
}

function prepareSecretsUncached(secrets: readonly Secret[]): PreparedSecrets {
  const byValue = new Map<string, PreparedSecret>();
  for (const s of secrets) {
    if (typeof s.value === 'string' && s.value.length >= MIN_SECRET_LENGTH && !byValue.has(s.value)) {
      const encoded = encodeURIComponent(s.value);
      byValue.set(s.value, { value: s.value, label: s.label, encoded: encoded === s.value ? null : encoded });
    }
  }
  return { list: [...byValue.values()].sort((a, b) => b.value.length - a.value.length) };
}

/** Every form of every secret to search for: the value, then its percent-encoded form. */
export function secretForms(secrets: PreparedSecrets): { readonly text: string; readonly label: string }[] {
  return secrets.list.flatMap((s) =>
    s.encoded === null
      ? [{ text: s.value, label: s.label }]
      : [
          { text: s.value, label: s.label },
          { text: s.encoded, label: s.label },
        ],
  );
}

function replaceAll(text: string, needle: string, replacement: string): string {
  return text.includes(needle) ? text.split(needle).join(replacement) : text;
}

/** Every form of every secret in `text` replaced by `replacement(label)`. */
export function scrubText(text: string, secrets: PreparedSecrets, replacement: (label: string) => string): string {
  let out = text;
  for (const s of secrets.list) {
    if (out.includes(s.value)) out = replaceAll(out, s.value, replacement(s.label));
    if (s.encoded !== null && out.includes(s.encoded)) out = replaceAll(out, s.encoded, replacement(s.label));
  }
  return out;
}

/**
 * A text cut at a cap may end with the first part of a secret: that prefix is a secret too.
 * Only prefixes of 4+ characters count, so ordinary text endings are not flagged.
 */
export function scrubTruncatedTail(text: string, secrets: PreparedSecrets, replacement: (label: string) => string): string {
  for (const s of secrets.list) {
    for (let k = s.value.length - 1; k >= 4; k--) {
      if (text.endsWith(s.value.slice(0, k))) return text.slice(0, text.length - k) + replacement(s.label);
    }
  }
  return text;
}

/** Binary bodies: each secret's UTF-8 bytes are replaced in place. */
export function scrubBytes(bytes: Buffer, secrets: PreparedSecrets, replacement: (label: string) => string): Buffer {
  let out = bytes;
  for (const s of secrets.list) {
    const needle = Buffer.from(s.value, 'utf8');
    let at = out.indexOf(needle);
    if (at < 0) continue;
    const parts: Buffer[] = [];
    let from = 0;
    const rep = Buffer.from(replacement(s.label), 'utf8');
    while (at >= 0) {
      parts.push(out.subarray(from, at), rep);
      from = at + needle.length;
      at = out.indexOf(needle, from);
    }
    parts.push(out.subarray(from));
    out = Buffer.concat(parts);
  }
  return out;
}

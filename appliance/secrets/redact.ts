// Redaction applied to every string of an exchange before it is written (journal and HAR alike).
// Rules, in the order they apply:
//  1. values of credential-bearing headers (cookies, and every name credential-name.ts calls a
//     credential) become [redacted:<header name>], or the label of the Secret whose value they are;
//  2. every Secret value (>= 8 chars) anywhere in header names and values, URL and bodies becomes
//     [redacted:<label>];
//  3. a JWT-shaped string keeps header and payload; its signature becomes [redacted:signature];
//  4. query parameters whose name is a credential name become [redacted:query <name>];
//  5. in the agent's request (URL, headers, body), a value shaped like a Datadog key
//     (credentials/key-shape.ts) becomes [redacted:key-shaped value]; each one found is then a
//     Secret for the whole exchange, so an upstream that echoes it is redacted too.
import { decodeComponent, isCredentialHeader, isCredentialParam } from './credential-name.js';
import { findKeyShapes, redactKeyShapes } from './key-shape.js';
import type { HeaderPair, Secret } from '../lib/exchange-types.js';

/** Redacted by name whatever their value, besides every credential name (credential-name.ts). */
export const SENSITIVE_HEADERS: ReadonlySet<string> = new Set(['cookie', 'set-cookie']);

export const KEY_SHAPE_LABEL = 'key-shaped value';

/** Shorter values would wreck ordinary text (and no real credential is that short). */
export const MIN_SECRET_LENGTH = 8;

const JWT_IN_TEXT = /(eyJ[A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)/g;

export interface PreparedSecret extends Secret {
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
// cache by content spares the percent-encoding and sorting per exchange.
const BY_CONTENT_MAX = 256;
const byContent = new Map<string, PreparedSecrets>();

/** Once per exchange: everything per secret that does not depend on the text being redacted. */
export function prepareSecrets(secrets: readonly Secret[]): PreparedSecrets {
  const cached = prepared.get(secrets);
  if (cached && cached.length === secrets.length) return cached.out;
  const key = secrets.map((x) => `${x.label}\0${x.value}`).join('\0\0');
  let out = byContent.get(key);
  if (!out) {
    out = prepareSecretsUncached(secrets);
    if (byContent.size >= BY_CONTENT_MAX) byContent.clear();
    byContent.set(key, out);
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

export function placeholder(label: string): string {
  return `[redacted:${label}]`;
}

function replaceAll(text: string, needle: string, replacement: string): string {
  return text.includes(needle) ? text.split(needle).join(replacement) : text;
}

/** Rules 2 and 3 on free text; `wrap` encodes the placeholder where plain brackets are not allowed. */
export function redactText(text: string, secrets: PreparedSecrets, wrap: (p: string) => string = (p) => p): string {
  let out = text;
  for (const s of secrets.list) {
    if (out.includes(s.value)) out = replaceAll(out, s.value, wrap(placeholder(s.label)));
    if (s.encoded !== null && out.includes(s.encoded)) out = replaceAll(out, s.encoded, wrap(placeholder(s.label)));
  }
  // Every JWT starts "eyJ": most strings (header values, JSON bodies) skip the regex entirely.
  if (!out.includes('eyJ')) return out;
  return out.replace(JWT_IN_TEXT, (_m, h: string, p: string) => `${h}.${p}.${wrap(placeholder('signature'))}`);
}

/**
 * A body cut at the cap may end with the first part of a secret: that prefix is a secret too.
 * Only prefixes of 4+ characters count, so ordinary text endings are not flagged.
 */
export function redactTruncatedTail(text: string, secrets: PreparedSecrets): string {
  for (const s of secrets.list) {
    for (let k = s.value.length - 1; k >= 4; k--) {
      if (text.endsWith(s.value.slice(0, k))) return text.slice(0, text.length - k) + placeholder(s.label);
    }
  }
  return text;
}

/** Rule 2 on binary bodies: the secret's UTF-8 bytes are replaced in place. */
export function redactBytes(bytes: Buffer, secrets: PreparedSecrets): Buffer {
  let out = bytes;
  for (const s of secrets.list) {
    const needle = Buffer.from(s.value, 'utf8');
    let at = out.indexOf(needle);
    if (at < 0) continue;
    const parts: Buffer[] = [];
    let from = 0;
    const rep = Buffer.from(placeholder(s.label), 'utf8');
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

function secretEqualTo(value: string, secrets: PreparedSecrets): Secret | undefined {
  const trimmed = value.trim();
  // "Bearer <token>" / "Basic <x>": the credential is the part after the scheme.
  const afterScheme = /^[A-Za-z][A-Za-z0-9_-]*\s+(\S+)$/.exec(trimmed)?.[1];
  return secrets.list.find((s) => s.value === trimmed || s.value === afterScheme);
}

function isSensitiveHeader(lower: string): boolean {
  return SENSITIVE_HEADERS.has(lower) || isCredentialHeader(lower);
}

/** Rule 1 for credential headers, rules 2 and 3 for the rest. */
export function redactHeaderValue(name: string, value: string, secrets: PreparedSecrets): string {
  const lower = name.toLowerCase();
  if (isSensitiveHeader(lower)) {
    const s = secretEqualTo(value, secrets);
    return placeholder(s ? s.label : lower);
  }
  return redactText(value, secrets);
}

/** Rules 1 to 3; a name holding a secret (an echoed `x-<key>: 1`) is redacted too. */
export function redactHeaders(headers: readonly HeaderPair[], secrets: PreparedSecrets): HeaderPair[] {
  return headers.map(([n, v]) => [redactText(n, secrets), redactHeaderValue(n, v, secrets)] as const);
}

/** The Secret list plus every value in `shapes`, labelled as key-shaped (a known label wins). */
export function withKeyShapes(secrets: PreparedSecrets, shapes: ReadonlySet<string>): PreparedSecrets {
  if (shapes.size === 0) return secrets;
  // The injected vaulted key is key-shaped too: a request with nothing new keeps its prepared list.
  const fresh = [...shapes].filter((v) => !secrets.list.some((s) => s.value === v));
  if (fresh.length === 0) return secrets;
  return prepareSecrets([...secrets.list, ...fresh.map((value) => ({ value, label: KEY_SHAPE_LABEL }))]);
}

/** Rule 5 as a search: adds every key-shaped value of the request's URL and header names and values to `into`. */
export function collectRequestKeyShapes(url: string, headers: readonly HeaderPair[], into: Set<string>): void {
  for (const v of findKeyShapes(url)) into.add(v);
  for (const [n, v] of headers) {
    for (const x of findKeyShapes(n)) into.add(x);
    for (const x of findKeyShapes(v)) into.add(x);
  }
}

/** Rules 2, 3 and 5 on free text from the agent's request (approval previews, log lines). */
export function redactRequestText(text: string, secrets: PreparedSecrets, wrap: (p: string) => string = (p) => p): string {
  return redactKeyShapes(redactText(text, secrets, wrap), wrap(placeholder(KEY_SHAPE_LABEL)));
}

/** Rule 4 on an application/x-www-form-urlencoded string (a query or a form body). */
export function redactQueryString(qs: string, wrap: (p: string) => string = (p) => p.replace(/ /g, '%20')): string {
  if (qs === '') return qs;
  return qs
    .split('&')
    .map((part) => {
      const eq = part.indexOf('=');
      const rawName = eq < 0 ? part : part.slice(0, eq);
      if (eq < 0 || !isCredentialParam(rawName)) return part;
      // Non-printable characters (a NUL, a decoded "+") would make the label unreadable.
      const name = decodeComponent(rawName).toLowerCase().replace(/[^\x21-\x7e]/g, '?');
      return `${rawName}=${wrap(placeholder(`query ${name}`))}`;
    })
    .join('&');
}

/**
 * Rules 4, 2, 3 and 5 on a request URL (only request URLs are recorded); the fragment is dropped
 * (HAR URLs carry none). Placeholders are percent-encoded because brackets are not legal in a
 * URI path or query (RFC 3986); the HAR's queryString list shows them decoded.
 */
export function redactUrl(url: string, secrets: PreparedSecrets): string {
  const noFragment = url.split('#', 1)[0] ?? '';
  const q = noFragment.indexOf('?');
  const withQuery = q < 0 ? noFragment : noFragment.slice(0, q + 1) + redactQueryString(noFragment.slice(q + 1), encodeURIComponent);
  return redactRequestText(withQuery, secrets, encodeURIComponent);
}

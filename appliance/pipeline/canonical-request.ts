// The first stage of the pipeline: the client's request parsed once, strictly, into the one frozen
// object every later stage reads (identity, strip, policy, inject, record, forward). Absolute-form
// targets become origin-form, the path gets its one normalization (canonical-path.ts), hop-by-hop
// and Connection-nominated headers are gone, and the body framing the client used is named, so
// the forwarded request can carry exactly that framing whatever the Connection header said.
import { AirlockError } from '../errors.js';
import { endToEndHeaders } from '../lib/headers.js';
import { normalizeHost, splitHostPort } from '../config/host-match.js';
import { canonicalPath, PathError } from './canonical-path.js';

export type BodyFraming = { readonly kind: 'none' } | { readonly kind: 'length'; readonly length: number } | { readonly kind: 'chunked' };

/** The authority the connection was made for: the tunnel's host:443, or a plain request's URL host. */
export interface Authority {
  readonly host: string;
  readonly port: number;
}

export interface RequestHead {
  readonly method?: string | undefined;
  /** The request target exactly as on the request line (before any library rewrote it). */
  readonly target: string;
  /** Node's flat rawHeaders. */
  readonly rawHeaders: readonly string[];
}

export interface CanonicalRequest {
  readonly method: string;
  /** Normalized host (lower case, no trailing dot) the request is for. */
  readonly host: string;
  readonly port: number;
  /** Normalized path (canonical-path.ts), no query. */
  readonly path: string;
  /** The raw query (after "?"), or null when there is none. */
  readonly query: string | null;
  /** Origin-form target as forwarded: path plus "?query". */
  readonly target: string;
  /** End-to-end headers: no hop-by-hop, no Connection-nominated, no Host and no framing header. */
  readonly headers: readonly string[];
  readonly framing: BodyFraming;
  /** What the target carried and Airlock removed ("url:userinfo"). */
  readonly stripped: readonly string[];
  /** The removed values, for the recorder to redact wherever they echo. */
  readonly removedValues: readonly string[];
}

const ABSOLUTE = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)(.*)$/s;
const DEFAULT_PORT: Readonly<Record<string, number>> = { https: 443, http: 80 };

/** Throws AirlockError BAD_REQUEST (or HOST_MISMATCH) saying what to fix; never echoes the target. */
export function canonicalRequest(req: RequestHead, tunnel: Authority): CanonicalRequest {
  const method = req.method ?? 'GET';
  const stripped: string[] = [];
  const removedValues: string[] = [];

  let originForm = req.target;
  const abs = ABSOLUTE.exec(req.target);
  if (abs) {
    const scheme = abs[1]!.toLowerCase();
    const defaultPort = DEFAULT_PORT[scheme];
    if (defaultPort === undefined) throw bad('the request target must be a path or an http(s):// URL');
    let authority = abs[2]!;
    const at = authority.lastIndexOf('@');
    if (at !== -1) {
      const userinfo = authority.slice(0, at);
      authority = authority.slice(at + 1);
      stripped.push('url:userinfo');
      removedValues.push(...userinfoForms(userinfo));
    }
    const hp = splitHostPort(authority, defaultPort);
    if (!hp) throw bad('the URL in the request target has no valid host');
    if (hp.host !== normalizeHost(tunnel.host) || hp.port !== tunnel.port) {
      throw new AirlockError('HOST_MISMATCH', `connected to ${tunnel.host}`);
    }
    originForm = abs[3] === '' ? '/' : abs[3]!;
  } else if (!req.target.startsWith('/')) {
    throw bad('the request target must be a path (origin-form) or a URL of the host connected to');
  }

  const q = originForm.indexOf('?');
  const rawPath = q === -1 ? originForm : originForm.slice(0, q);
  const query = q === -1 ? null : originForm.slice(q + 1);
  let path: string;
  try {
    path = canonicalPath(rawPath);
  } catch (err) {
    if (err instanceof PathError) throw bad(err.message);
    throw err;
  }
  if (query !== null && /[^\x21-\x7e]|#/.test(query)) throw bad('the query holds a byte that must be percent-encoded');

  const raw = req.rawHeaders;
  const hosts: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) if (raw[i]!.toLowerCase() === 'host') hosts.push(raw[i + 1]!);
  if (hosts.length > 1) throw bad('send one Host header');
  if (hosts.length === 0 && !abs) throw bad('send a Host header');
  if (hosts.length === 1) {
    const hp = splitHostPort(hosts[0]!, tunnel.port);
    if (!hp || hp.host !== normalizeHost(tunnel.host) || hp.port !== tunnel.port) throw new AirlockError('HOST_MISMATCH', `connected to ${tunnel.host}`);
  }
  const framing = bodyFraming(raw);

  const e2e = endToEndHeaders(raw);
  const headers: string[] = [];
  for (let i = 0; i + 1 < e2e.length; i += 2) if (!FRAMING_AND_HOST.has(e2e[i]!.toLowerCase())) headers.push(e2e[i]!, e2e[i + 1]!);
  return Object.freeze({
    method,
    host: normalizeHost(tunnel.host),
    port: tunnel.port,
    path,
    query,
    target: query === null ? path : `${path}?${query}`,
    headers: Object.freeze(headers),
    framing: Object.freeze(framing),
    stripped: Object.freeze(stripped),
    removedValues: Object.freeze([...new Set(removedValues.filter((v) => v !== ''))]),
  });
}

/**
 * The framing the client used, from its raw headers (before any Connection nomination): one
 * Content-Length, or exactly `Transfer-Encoding: chunked`, or none. Anything else is BAD_REQUEST.
 */
export function bodyFraming(raw: readonly string[]): BodyFraming {
  const lengths: string[] = [];
  const codings: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (name === 'content-length') lengths.push(raw[i + 1]!);
    else if (name === 'transfer-encoding') codings.push(raw[i + 1]!);
  }
  if (codings.length > 0) {
    if (lengths.length > 0) throw bad('send Content-Length or Transfer-Encoding, not both');
    if (codings.length > 1 || codings[0]!.trim().toLowerCase() !== 'chunked') throw bad('the only Transfer-Encoding accepted is "chunked"');
    return { kind: 'chunked' };
  }
  if (lengths.length === 0) return { kind: 'none' };
  const n = Number(lengths[0]);
  if (lengths.length > 1 || !/^\d+$/.test(lengths[0]!.trim()) || !Number.isSafeInteger(n)) throw bad('send one valid Content-Length');
  return { kind: 'length', length: n };
}

// Set by the pipeline itself (framing from `framing`, Host from the authority): whatever the
// client's Connection header nominated, these are never taken from the client's list.
const FRAMING_AND_HOST = new Set(['host', 'content-length', 'transfer-encoding']);

function userinfoForms(userinfo: string): string[] {
  const out = [userinfo];
  const colon = userinfo.indexOf(':');
  if (colon !== -1) out.push(userinfo.slice(0, colon), userinfo.slice(colon + 1));
  for (const v of [...out]) {
    try {
      out.push(decodeURIComponent(v));
    } catch {
      // A broken escape: the raw form is redacted, which is what could echo.
    }
  }
  return out;
}

function bad(why: string): AirlockError {
  return new AirlockError('BAD_REQUEST', why);
}

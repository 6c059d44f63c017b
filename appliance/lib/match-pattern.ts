// `match` patterns: "METHOD PATH" or "METHOD HOST/PATH". In a path, a segment that is exactly `*`
// matches one segment, `**` any number (zero included), and `*` inside a segment any characters
// within it (lib/path-glob.ts, shared with `sessions grep --path`); a bare `*` target is every path.
// Compiled once, at config load, into one anchored regex per part.
import { pathGlob } from './path-glob.js';

export interface CompiledMatch {
  readonly source: string;
  readonly method: string | null;
  readonly host: RegExp | null;
  readonly path: RegExp;
}

export class PatternError extends Error {}

const METHOD = /^(\*|[A-Za-z]+)$/;

function escape(s: string): string {
  return s.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
}

function compilePath(path: string): RegExp {
  // A trailing slash is the same resource; case differences must not slip past a deny (pathGlob ignores case).
  try {
    return pathGlob(path.replace(/\/+$/, '') || '/');
  } catch (err) {
    throw new PatternError((err as Error).message);
  }
}

// Hosts are dot-separated labels, not paths: a host `*` is one label, `**` any number of them.
function compileHost(host: string): RegExp {
  const labels = host.toLowerCase().replace(/\.$/, '').split('.');
  const parts = labels.map((l) => (l === '**' ? '(?:[^.]+\\.)*[^.]+' : l === '*' ? '[^.]+' : escape(l).replace(/\*/g, '[^.]*')));
  return new RegExp(`^${parts.join('\\.')}$`, 'i');
}

export function compileMatch(source: string): CompiledMatch {
  const m = /^\s*(\S+)\s+(\S+)\s*$/.exec(source);
  if (!m) throw new PatternError(`expected "METHOD PATH" or "METHOD HOST/PATH", got ${JSON.stringify(source)}`);
  const [, method = '', target = ''] = m;
  if (!METHOD.test(method)) throw new PatternError(`not an HTTP method or "*": ${JSON.stringify(method)}`);
  let host: RegExp | null = null;
  let path = target;
  // "GET *": a bare `*` as the whole target is every path on every host.
  if (target === '*') path = '/**';
  else if (!target.startsWith('/')) {
    const slash = target.indexOf('/');
    const h = slash < 0 ? target : target.slice(0, slash);
    path = slash < 0 ? '/**' : target.slice(slash);
    if (!/^[A-Za-z0-9*.-]+$/.test(h)) throw new PatternError(`not a host pattern: ${JSON.stringify(h)}`);
    host = compileHost(h);
  }
  if (path.includes('?')) throw new PatternError(`a pattern matches the path only, without a query: ${JSON.stringify(source)}`);
  return { source, method: method === '*' ? null : method.toUpperCase(), host, path: compilePath(path) };
}

export interface RequestLine {
  readonly method: string;
  readonly host: string;
  /** Normalized with normalizePath. */
  readonly path: string;
}

export function matches(c: CompiledMatch, r: RequestLine): boolean {
  if (c.method !== null && c.method !== r.method.toUpperCase()) return false;
  if (c.host !== null && !c.host.test(r.host)) return false;
  return c.path.test(r.path);
}

/**
 * The view rules match against. The pipeline hands over the canonical path it forwards
 * (pipeline/canonical-path.ts: dots resolved, slashes collapsed, %2F refused), so on that input
 * this only decodes escapes and cuts ";params", a function of the forwarded path. Kept whole for
 * other callers (suggest-policy): the path as the upstream will understand it, so that `/api/v1/%61pi_key`, `//api/v1/api_key`
 * or `/api/v2/x/../api_keys` cannot slip past a rule: query dropped, percent-decoded, dot
 * segments resolved, repeated slashes collapsed. Null when it cannot be decoded (fail closed).
 */
export function normalizePath(rawPath: string): string | null {
  // needsBody() and decide() ask for the same path one after the other: remember the last one.
  if (rawPath === last.raw) return last.normalized;
  const normalized = normalizeUncached(rawPath);
  last = { raw: rawPath, normalized };
  return normalized;
}

let last: { readonly raw: string | undefined; readonly normalized: string | null } = { raw: undefined, normalized: null };

function normalizeUncached(rawPath: string): string | null {
  const noQuery = rawPath.split(/[?#]/, 1)[0] ?? '/';
  // An escaped "/" or "\\" would become a separator here but not upstream: the pipeline refuses
  // such paths (pipeline/canonical-path.ts), and so does this view of them (fail closed).
  if (/%2f|%5c|\\/i.test(noQuery)) return null;
  let decoded: string;
  try {
    decoded = decodeURIComponent(noQuery);
  } catch {
    return null;
  }
  if (decoded.includes('\0')) return null;
  const out: string[] = [];
  for (const seg of decoded.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') out.pop();
    else out.push(seg.split(';', 1)[0] ?? '');
  }
  return `/${out.join('/')}`;
}

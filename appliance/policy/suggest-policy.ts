// From what a session did to the smallest rule list that allows exactly that: one allow rule per
// distinct method and path, with path segments that look like IDs generalized to `*`.
import { normalizePath } from './match-pattern.js';

export interface SeenRequest {
  readonly method: string;
  /** Absolute URL. */
  readonly url: string;
}

export interface SuggestedRule {
  readonly match: string;
  readonly action: 'allow';
}

/** Numbers, UUIDs, Datadog's abc-def-ghi IDs and long hex/base62 tokens vary between runs. */
export function looksLikeId(seg: string): boolean {
  return (
    /^\d+$/.test(seg) ||
    /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(seg) ||
    /^[a-z0-9]{3}-[a-z0-9]{3}-[a-z0-9]{3}$/i.test(seg) ||
    (/^[A-Za-z0-9_-]{16,}$/.test(seg) && /\d/.test(seg))
  );
}

function patternOf(path: string): string {
  return path
    .split('/')
    .map((s) => (looksLikeId(s) ? '*' : s.replace(/\*/g, '')))
    .join('/');
}

export function suggestRules(seen: readonly SeenRequest[]): SuggestedRule[] {
  const hosts = new Set<string>();
  const out = new Map<string, SuggestedRule>();
  const parsed: { method: string; host: string; path: string }[] = [];
  for (const r of seen) {
    let u: URL;
    try {
      u = new URL(r.url);
    } catch {
      continue;
    }
    const path = normalizePath(u.pathname);
    if (path === null) continue;
    hosts.add(u.hostname.toLowerCase());
    parsed.push({ method: r.method.toUpperCase(), host: u.hostname.toLowerCase(), path: patternOf(path) });
  }
  // One host (the usual case): plain paths. Several: name the host, so nothing widens.
  const withHost = hosts.size > 1;
  for (const p of parsed) {
    const match = `${p.method} ${withHost ? p.host : ''}${p.path}`;
    if (!out.has(match)) out.set(match, { match, action: 'allow' });
  }
  return [...out.values()].sort((a, b) => a.match.localeCompare(b.match));
}

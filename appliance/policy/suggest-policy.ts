// From what a session did to the smallest rule list that reproduces it: a rule per distinct
// method and path of what reached Datadog (path segments that look like IDs generalized to `*`),
// `approve` where a person approved it, and nothing for what was refused. Ordered so that no rule
// is shadowed by an earlier one. Pure.
import { normalizePath } from '../lib/match-pattern.js';

export interface SeenRequest {
  readonly method: string;
  /** Absolute URL. */
  readonly url: string;
  /** allow (forwarded by policy) or approve (forwarded after a person approved it). Default allow. */
  readonly action?: 'allow' | 'approve';
}

export interface SuggestedRule {
  readonly match: string;
  readonly action: 'allow' | 'approve';
}

/** Numbers, UUIDs, Datadog's abc-def-ghi IDs and long hex/base62 tokens vary between runs. */
function looksLikeId(seg: string): boolean {
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

/** Literal text sorts before `*` at the same place, so a specific rule precedes the wider one that covers it. */
function sortKey(match: string): string {
  return match.replace(/\*/g, '\uffff');
}

/** Whether `wide` matches every request `narrow` matches (patterns made by patternOf: `*` is one segment). */
function covers(wide: string, narrow: string): boolean {
  const [wm, wp] = split(wide);
  const [nm, np] = split(narrow);
  if (wm !== nm) return false;
  const ws = wp.split('/');
  const ns = np.split('/');
  return ws.length === ns.length && ws.every((s, i) => s === '*' || s === ns[i]);
}

function split(match: string): [string, string] {
  const i = match.indexOf(' ');
  return [match.slice(0, i), match.slice(i + 1)];
}

export function suggestRules(seen: readonly SeenRequest[]): SuggestedRule[] {
  const hosts = new Set<string>();
  const parsed: { method: string; host: string; path: string; action: 'allow' | 'approve' }[] = [];
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
    parsed.push({ method: r.method.toUpperCase(), host: u.hostname.toLowerCase(), path: patternOf(path), action: r.action ?? 'allow' });
  }
  // One host (the usual case): plain paths. Several: name the host, so nothing widens.
  const withHost = hosts.size > 1;
  const byMatch = new Map<string, 'allow' | 'approve'>();
  for (const p of parsed) {
    const match = `${p.method} ${withHost ? p.host : ''}${p.path}`;
    // The same pattern both allowed and approved: a person stays in the loop.
    if (byMatch.get(match) !== 'approve') byMatch.set(match, p.action);
  }
  const rules = [...byMatch]
    .map(([match, action]) => ({ match, action }))
    .sort((a, b) => (sortKey(a.match) < sortKey(b.match) ? -1 : sortKey(a.match) > sortKey(b.match) ? 1 : 0));
  // A specific rule adds nothing when the first later rule that covers it has the same action.
  return rules.filter((r, i) => {
    const next = rules.find((w, j) => j > i && covers(w.match, r.match));
    return next === undefined || next.action !== r.action;
  });
}

import type { GrantConfig } from '../config/schema.js';

const GLOB_PREFIX = 'glob:';

/**
 * `*` matches any run of characters except `/`, so `repo:acme/*` cannot reach into
 * `repo:acme/app/../other` style values and `refs/heads/*` stays one path segment deep.
 * Consecutive stars collapse so a pattern cannot build a catastrophic backtracking regex.
 */
export function globToRegExp(pattern: string): RegExp {
  const body = pattern
    .replace(/\*+/g, '*')
    .split('*')
    .map((lit) => lit.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'))
    .join('[^/]*');
  return new RegExp(`^${body}$`, 'u');
}

/** Only scalar claims compare; an array or object claim never matches (fail closed). */
function claimAsString(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  return null;
}

export function claimMatches(expected: string, actual: unknown): boolean {
  const s = claimAsString(actual);
  if (s === null) return false;
  if (expected.startsWith(GLOB_PREFIX)) return globToRegExp(expected.slice(GLOB_PREFIX.length)).test(s);
  return s === expected;
}

/**
 * The first grant (in config order) whose issuer is `issuerName` and whose every claim
 * matches wins. A claim the grant names but the token lacks is a mismatch.
 */
export function matchGrant(
  grants: readonly GrantConfig[],
  issuerName: string,
  claims: Readonly<Record<string, unknown>>,
): GrantConfig | null {
  for (const g of grants) {
    if (g.issuer !== issuerName) continue;
    const ok = Object.entries(g.claims).every(
      ([name, expected]) => Object.hasOwn(claims, name) && claimMatches(expected, claims[name]),
    );
    if (ok) return g;
  }
  return null;
}

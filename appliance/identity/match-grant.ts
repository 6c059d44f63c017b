import type { GrantConfig } from '../config/schema.js';
import { claimMatches } from '../lib/claim-rules.js';

export { claimMatches, globToRegExp } from '../lib/claim-rules.js';

/** Why one grant did not match, for the operator (whoami) and the job (login's answer). */
export interface GrantMiss {
  readonly grant: string;
  /** `issuer` when the grant is for another issuer; else the first claim that failed. */
  readonly claim: string;
  /** The token's value of that claim; undefined when the token lacks it. */
  readonly actual: unknown;
  /** The grant's rule for it (operator-facing only: never sent to a job). */
  readonly expected: string | readonly string[];
}

/** The first claim of a grant that the token fails, or null when the grant matches. */
export function firstMiss(g: GrantConfig, issuerName: string, claims: Readonly<Record<string, unknown>>): GrantMiss | null {
  if (g.issuer !== issuerName) return { grant: g.name, claim: 'issuer', actual: issuerName, expected: g.issuer };
  for (const [name, expected] of Object.entries(g.claims)) {
    // A claim the grant names but the token lacks is a mismatch (fail closed).
    if (!Object.hasOwn(claims, name) || !claimMatches(expected, claims[name])) {
      return { grant: g.name, claim: name, actual: Object.hasOwn(claims, name) ? claims[name] : undefined, expected };
    }
  }
  return null;
}

/** The first grant (in config order) whose issuer is `issuerName` and whose every claim matches. */
export function matchGrant(grants: readonly GrantConfig[], issuerName: string, claims: Readonly<Record<string, unknown>>): GrantConfig | null {
  return grants.find((g) => firstMiss(g, issuerName, claims) === null) ?? null;
}

/** Every grant's verdict: the match, or per grant the first claim that failed. */
export function explainGrants(
  grants: readonly GrantConfig[],
  issuerName: string,
  claims: Readonly<Record<string, unknown>>,
): { matched: string | null; misses: GrantMiss[] } {
  const misses: GrantMiss[] = [];
  for (const g of grants) {
    const miss = firstMiss(g, issuerName, claims);
    if (!miss) return { matched: g.name, misses };
    misses.push(miss);
  }
  return { matched: null, misses };
}

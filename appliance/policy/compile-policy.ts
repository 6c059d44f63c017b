// Config policies compiled once, at load: every `match` becomes regexes, nothing is parsed per request.
import { compileMatch, type CompiledMatch } from '../lib/match-pattern.js';
import type { Condition } from './conditions.js';

export type Action = 'allow' | 'deny' | 'approve';
export type Mode = 'enforce' | 'report';

export interface CompiledRule {
  readonly index: number;
  readonly match: CompiledMatch;
  readonly action: Action;
  readonly reason: string | undefined;
  readonly mode: Mode;
  readonly when: readonly Condition[] | undefined;
}

export interface CompiledPolicy {
  readonly name: string;
  readonly default: Action;
  readonly mode: Mode;
  readonly allowKeyManagement: boolean;
  readonly rateLimit: { readonly perSecond: number; readonly burst: number } | undefined;
  readonly rules: readonly CompiledRule[];
}

export interface PolicyInput {
  readonly default: Action;
  readonly mode: Mode;
  readonly allowKeyManagement: boolean;
  readonly rateLimit?: { readonly perSecond: number; readonly burst: number } | undefined;
  readonly rules: readonly {
    readonly match: string;
    readonly action: Action;
    readonly reason?: string | undefined;
    readonly mode?: Mode | undefined;
    readonly when?: readonly Condition[] | undefined;
  }[];
}

export function compilePolicy(name: string, p: PolicyInput): CompiledPolicy {
  return {
    name,
    default: p.default,
    mode: p.mode,
    allowKeyManagement: p.allowKeyManagement,
    rateLimit: p.rateLimit,
    rules: p.rules.map((r, index) => ({
      index,
      match: compileMatch(r.match),
      action: r.action,
      reason: r.reason,
      // A rule inherits the policy's mode unless it says otherwise.
      mode: r.mode ?? p.mode,
      when: r.when,
    })),
  };
}

/**
 * What a grant without a `policy:` gets: everything allowed, as before policies existed, except
 * the built-in key-management denial, which is always first.
 */
export const UNRESTRICTED: CompiledPolicy = {
  name: '(none)',
  default: 'allow',
  mode: 'enforce',
  allowKeyManagement: false,
  rateLimit: undefined,
  rules: [],
};

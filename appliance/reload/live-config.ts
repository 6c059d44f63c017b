// The parts of a running server that a reload (SIGHUP, `systemctl reload airlock`, `airlock reload`)
// replaces: who may sign and who gets what (identity issuers, grants, clock skew), endpoint
// policies and masking rules. One object swapped in one assignment, so a request starts with the
// old parts or the new ones, never a mix. What a reload keeps: held approvals (the queue and its
// webhook), rate-limit buckets, recording sessions, session tokens and every open connection.
// Keys that shape sockets, files or long-lived state need a restart: a reload that changes one is
// refused whole, and the old config keeps running.
import type { Config } from '../config/schema.js';
import { IdentityResolver, type IdentityResolverDeps } from '../identity/resolve-identity.js';
import { SessionIdentity } from '../identity/session-identity.js';
import type { SessionTokens } from '../identity/session-tokens.js';
import { compileGrantPolicies, maskRulesOf, type Guard } from '../policy/guard.js';
import { UNRESTRICTED } from '../policy/compile-policy.js';

export interface LiveParts {
  readonly config: Config;
  readonly jwt: IdentityResolver;
  readonly identity: SessionIdentity;
  readonly guard: Guard;
}

export interface ReloadResult {
  readonly ok: boolean;
  /** Reloadable keys whose value changed (empty: the file says what already runs). */
  readonly changed: readonly string[];
  /** Why the new config was refused; the old one keeps running. */
  readonly errors: readonly string[];
}

/** What a reload may change. */
const RELOADABLE = ['identity.issuers', 'identity.grants', 'identity.clockSkew', 'policies', 'masking'] as const;

function pick(config: Config, path: string): unknown {
  let v: unknown = config;
  for (const k of path.split('.')) v = (v as Record<string, unknown> | undefined)?.[k];
  return v;
}

/** JSON with RegExps as their source, so two parsed configs compare by meaning. */
function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (x instanceof RegExp ? `/${x.source}/${x.flags}` : x)) ?? 'undefined';
}

/** Key paths that a reload cannot apply and that differ (identity.* one level deeper). */
function restartOnlyChanges(old: Config, next: Config): string[] {
  const out: string[] = [];
  for (const k of new Set([...Object.keys(old), ...Object.keys(next)])) {
    if (k === 'policies' || k === 'masking') continue;
    if (k === 'identity') {
      for (const s of new Set([...Object.keys(old.identity), ...Object.keys(next.identity)])) {
        const path = `identity.${s}`;
        if (!(RELOADABLE as readonly string[]).includes(path) && canonical(pick(old, path)) !== canonical(pick(next, path))) out.push(path);
      }
      continue;
    }
    if (canonical(pick(old, k)) !== canonical(pick(next, k))) out.push(k);
  }
  return out.sort();
}

function reloadableChanges(old: Config, next: Config): string[] {
  return RELOADABLE.filter((p) => canonical(pick(old, p)) !== canonical(pick(next, p)));
}

export interface LiveConfigDeps {
  readonly tokens: SessionTokens;
  readonly resolverDeps: IdentityResolverDeps;
}

export class LiveConfig {
  #parts: LiveParts;
  readonly #deps: LiveConfigDeps;

  constructor(config: Config, guard: Guard, deps: LiveConfigDeps) {
    this.#deps = deps;
    this.#parts = this.#build(config, guard);
  }

  get parts(): LiveParts {
    return this.#parts;
  }

  #build(config: Config, guard: Guard): LiveParts {
    const jwt = new IdentityResolver(config.identity, this.#deps.resolverDeps);
    const identity = new SessionIdentity(jwt, this.#deps.tokens, config.identity, { ambient: config.identity.ambient });
    return { config, jwt, identity, guard };
  }

  /** Applies `next` (already parsed and checked) or refuses it; never throws. */
  apply(next: Config): ReloadResult {
    const old = this.#parts;
    const fixed = restartOnlyChanges(old.config, next);
    if (fixed.length > 0) {
      return {
        ok: false,
        changed: [],
        errors: fixed.map((k) => `${k}: changed, but only a restart applies it (systemctl restart airlock); nothing was reloaded`),
      };
    }
    const changed = reloadableChanges(old.config, next);
    let parts: LiveParts;
    try {
      const byGrant = compileGrantPolicies(next);
      // Same approval queue, limiter and webhook: held requests and rate buckets survive.
      const guard: Guard = { ...old.guard, policyFor: (g) => byGrant.get(g) ?? UNRESTRICTED, masking: maskRulesOf(next) };
      parts = this.#build(next, guard);
    } catch (err) {
      return { ok: false, changed: [], errors: [`the new config could not be applied: ${(err as Error).message}`] };
    }
    this.#parts = parts;
    return { ok: true, changed, errors: [] };
  }
}

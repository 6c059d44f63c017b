// The policy decision: a pure function of the request's facts and a compiled policy.
// Order: built-in key-management denial, then the rules (first match wins), then the default.
import { evaluate, type BodyFacts } from './conditions.js';
import type { Action, CompiledPolicy, CompiledRule } from './compile-policy.js';
import { KEY_MANAGEMENT, KEY_MANAGEMENT_REASON } from './key-management.js';
import { matches, normalizePath, type RequestLine } from '../lib/match-pattern.js';

export interface RequestFacts {
  readonly method: string;
  readonly host: string;
  /** The canonical path the pipeline forwards (query included); decoded for matching here. */
  readonly path: string;
  /** Present only when needsBody() said so and the body was read. */
  readonly body?: BodyFacts | undefined;
}

/** Which rule decided, as recorded in the HAR (`_airlock.rule`) and the log. */
export interface RuleRef {
  readonly policy: string;
  /** The rule's number in the policy's list, counted from 1 as people count, or how the decision was reached without one. */
  readonly rule: number | 'default' | 'key-management' | 'unparseable-path';
  readonly match?: string;
  readonly action: Action;
  readonly reason?: string;
}

export interface Decision {
  readonly action: Action;
  /** false under `mode: report`: the action is logged and recorded, and the request is forwarded. */
  readonly enforced: boolean;
  readonly rule: RuleRef;
}

function lineOf(f: RequestFacts): RequestLine | null {
  const path = normalizePath(f.path);
  return path === null ? null : { method: f.method, host: f.host.toLowerCase(), path };
}

function ref(p: CompiledPolicy, r: CompiledRule): RuleRef {
  return { policy: p.name, rule: r.index + 1, match: r.match.source, action: r.action, ...(r.reason !== undefined ? { reason: r.reason } : {}) };
}

/** Whether deciding this request needs its body: some rule that matches it has `when:`. */
export function needsBody(f: RequestFacts, p: CompiledPolicy): boolean {
  const line = lineOf(f);
  if (line === null) return false;
  if (!p.allowKeyManagement && KEY_MANAGEMENT.some((m) => matches(m, line))) return false;
  for (const r of p.rules) {
    if (!matches(r.match, line)) continue;
    if (r.when) return true;
    return false;
  }
  return false;
}

export function decide(f: RequestFacts, p: CompiledPolicy): Decision {
  const line = lineOf(f);
  if (line === null) {
    return { action: 'deny', enforced: true, rule: { policy: p.name, rule: 'unparseable-path', action: 'deny', reason: 'the request path cannot be decoded' } };
  }
  if (!p.allowKeyManagement && KEY_MANAGEMENT.some((m) => matches(m, line))) {
    // Never softened by report mode: the key material would already be out.
    return { action: 'deny', enforced: true, rule: { policy: p.name, rule: 'key-management', action: 'deny', reason: KEY_MANAGEMENT_REASON } };
  }
  for (const r of p.rules) {
    if (!matches(r.match, line)) continue;
    if (r.when) {
      const t = evaluate(r.when, f.body ?? { state: 'unreadable', reason: 'body not read' });
      // Unknown (unreadable body): a restrictive rule applies, a permissive one does not.
      const applies = t === 'true' || (t === 'unknown' && r.action !== 'allow');
      if (!applies) continue;
      if (t === 'unknown') {
        const why = f.body?.state === 'unreadable' ? f.body.reason : 'body not read';
        return {
          action: r.action,
          enforced: r.mode === 'enforce',
          rule: { ...ref(p, r), reason: `${r.reason ?? 'a when: condition'} (could not be checked: ${why})` },
        };
      }
    }
    return { action: r.action, enforced: r.mode === 'enforce', rule: ref(p, r) };
  }
  return { action: p.default, enforced: p.mode === 'enforce', rule: { policy: p.name, rule: 'default', action: p.default } };
}

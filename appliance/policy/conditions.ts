// `when:` conditions on the JSON request body. Three-valued: a body that could not be read
// (too large, not JSON, undecodable) makes a condition "unknown", and the caller decides which
// way unknown falls (restrictive rules apply, permissive ones do not: fail closed).
import { JSONPath } from 'jsonpath-plus';

export interface Condition {
  readonly path: string;
  readonly exists?: boolean | undefined;
  readonly equals?: string | number | boolean | null | undefined;
  readonly gt?: number | undefined;
  readonly gte?: number | undefined;
  readonly lt?: number | undefined;
  readonly lte?: number | undefined;
}

export type BodyFacts = { readonly state: 'json'; readonly value: unknown } | { readonly state: 'unreadable'; readonly reason: string };

export type Truth = 'true' | 'false' | 'unknown';

/** The values a JSONPath selects; `eval: false` because a config must never run code. */
function select(path: string, json: unknown): unknown[] {
  if (json === null || typeof json !== 'object') return path === '$' ? [json] : [];
  const out = JSONPath<unknown>({ path, json, eval: false, wrap: true });
  return Array.isArray(out) ? out : [];
}

function holds(c: Condition, values: unknown[]): boolean {
  if (c.exists !== undefined && (values.length > 0 && values.some((v) => v !== undefined)) !== c.exists) return false;
  const nums = values.filter((v): v is number => typeof v === 'number');
  const anyNum = (f: (n: number) => boolean): boolean => nums.some(f);
  if (c.equals !== undefined && !values.some((v) => v === c.equals)) return false;
  if (c.gt !== undefined && !anyNum((n) => n > c.gt!)) return false;
  if (c.gte !== undefined && !anyNum((n) => n >= c.gte!)) return false;
  if (c.lt !== undefined && !anyNum((n) => n < c.lt!)) return false;
  if (c.lte !== undefined && !anyNum((n) => n <= c.lte!)) return false;
  return true;
}

/** All conditions hold (they are ANDed). */
export function evaluate(conditions: readonly Condition[], body: BodyFacts): Truth {
  if (body.state !== 'json') return 'unknown';
  for (const c of conditions) {
    let values: unknown[];
    try {
      values = select(c.path, body.value);
    } catch {
      return 'unknown';
    }
    if (!holds(c, values)) return 'false';
  }
  return 'true';
}

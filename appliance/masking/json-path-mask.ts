// JSON-path masking rules: every value a path selects becomes "[masked:<rule>]". Needs the whole
// body parsed, so it is only applied to bodies held in full.
import { JSONPath } from 'jsonpath-plus';

export interface JsonPathRule {
  readonly name: string;
  readonly jsonPath: string;
}

/** The masked JSON text, or null when no rule selected anything (the original bytes stay as they were). */
export function maskJsonPaths(rules: readonly JsonPathRule[], text: string): { text: string; fired: Set<string> } | null {
  if (rules.length === 0) return null;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return null;
  }
  if (json === null || typeof json !== 'object') return null;
  const fired = new Set<string>();
  for (const r of rules) {
    const found = JSONPath<unknown>({ path: r.jsonPath, json, eval: false, resultType: 'all' });
    if (!Array.isArray(found)) continue;
    for (const f of found as { parent?: unknown; parentProperty?: unknown }[]) {
      const parent = f.parent;
      const key = f.parentProperty;
      if (parent === null || typeof parent !== 'object' || (typeof key !== 'string' && typeof key !== 'number')) continue;
      (parent as Record<string | number, unknown>)[key] = `[masked:${r.name}]`;
      fired.add(r.name);
    }
  }
  return fired.size > 0 ? { text: JSON.stringify(json), fired } : null;
}

export function isJson(contentType: string | undefined): boolean {
  if (!contentType) return false;
  const t = (contentType.split(';', 1)[0] ?? '').trim().toLowerCase();
  return t === 'application/json' || t.endsWith('+json') || t === 'text/json';
}

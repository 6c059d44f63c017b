// One claim rule: exact by default; `glob:` and `regex:` only when written. Trust policies
// elsewhere (AWS, Vault bound_claims) learned that implicit patterns get written by accident.

const GLOB_PREFIX = 'glob:';
const REGEX_PREFIX = 'regex:';
const MAX_PATTERN_LENGTH = 1024;

/**
 * Kept apart from lib/path-glob.ts (picomatch): a claim is no path, compares case-sensitively, and
 * only `*` is special in it.
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

/** Always anchored: `regex:acme/.*` must not match `evil-acme/x`. */
function anchoredRegExp(source: string): RegExp {
  return new RegExp(`^(?:${source})$`, 'u');
}

// Rules come from the config, so the set is finite; compiling once keeps matching cheap.
const compiled = new Map<string, RegExp>();

function patternOf(rule: string): RegExp | null {
  let re = compiled.get(rule);
  if (re) return re;
  if (rule.startsWith(GLOB_PREFIX)) re = globToRegExp(rule.slice(GLOB_PREFIX.length));
  else if (rule.startsWith(REGEX_PREFIX)) re = anchoredRegExp(rule.slice(REGEX_PREFIX.length));
  else return null;
  compiled.set(rule, re);
  return re;
}

/** Why a rule cannot be used, or null. Checked when the config loads. */
export function ruleProblem(rule: string): string | null {
  if (rule.length > MAX_PATTERN_LENGTH) return `a claim rule is longer than ${MAX_PATTERN_LENGTH} characters`;
  if (!rule.startsWith(REGEX_PREFIX)) return null;
  try {
    anchoredRegExp(rule.slice(REGEX_PREFIX.length));
    return null;
  } catch (err) {
    return `bad regex in ${JSON.stringify(rule)}: ${(err as Error).message}`;
  }
}

/** Only scalar claims compare, as strings (GitHub sends IDs and booleans as strings); arrays and objects never match. */
export function claimAsString(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  return null;
}

/** A single rule or a list (any of) against a claim value. */
export function claimMatches(expected: string | readonly string[], actual: unknown): boolean {
  const s = claimAsString(actual);
  if (s === null) return false;
  const rules = typeof expected === 'string' ? [expected] : expected;
  return rules.some((rule) => {
    const re = patternOf(rule);
    return re ? re.test(s) : s === rule;
  });
}

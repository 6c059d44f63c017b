// Every place a credential rides, in one module: the strip step (credentials/strip-agent-
// credentials.ts), the recording's redaction (secrets/redact.ts), the log's redaction (log.ts),
// the identity token's carriers (identity/carriers.ts), the injected headers and replay all ask
// here. Which header, query parameter and cookie names carry a Datadog credential is a rule, not a
// list: servers and client libraries fold case, separators and brackets in names (`DD_API_KEY`,
// `dd.api.key`, `api_key[]`, PHP/Rails arrays), so a list of spellings always misses one.

const WORDS = ['apikey', 'appkey', 'applicationkey'] as const;
// Compared in the same compact form; `X-Authorization-Mode` is not one of them.
const AUTH_HEADERS: ReadonlySet<string> = new Set(['authorization', 'proxyauthorization']);

/** Lower case with every character that is not a letter or digit removed. */
export function compactName(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]/g, '');
}

function hasKeyWord(compact: string): boolean {
  for (const w of WORDS) if (compact.includes(w)) return true;
  return false;
}

// Every request's headers are asked about several times (strip, then redaction of the journal
// lines), and one job sends the same few names over and over: the verdict per name as written is
// kept. Bounded, and emptied when full, so names an agent makes up cannot grow it.
const HEADER_VERDICTS_MAX = 512;
const headerVerdicts = new Map<string, boolean>();

/** A request header that carries a credential: a key-like name, or (Proxy-)Authorization. */
export function isCredentialHeader(name: string): boolean {
  const known = headerVerdicts.get(name);
  if (known !== undefined) return known;
  const c = compactName(name);
  const verdict = hasKeyWord(c) || AUTH_HEADERS.has(c);
  if (headerVerdicts.size >= HEADER_VERDICTS_MAX) headerVerdicts.clear();
  headerVerdicts.set(name, verdict);
  return verdict;
}

/** A query parameter (or form field) name as written on the wire: percent-decoded with `+` as a space first. */
export function isCredentialParam(rawName: string): boolean {
  return hasKeyWord(compactName(decodeComponent(rawName)));
}

/** A cookie name: cookies are not percent-decoded by servers, so the name is taken as written. */
export function isCredentialCookie(name: string): boolean {
  return hasKeyWord(compactName(name));
}

export function decodeComponent(raw: string): string {
  try {
    return decodeURIComponent(raw.replaceAll('+', ' '));
  } catch {
    return raw;
  }
}

/** Headers redacted by name whatever their value, besides every credential header: cookies carry sessions. */
export const COOKIE_HEADERS: ReadonlySet<string> = new Set(['cookie', 'set-cookie']);

/** A header whose value is never recorded or replayed: a credential header or a cookie. */
export function isSecretHeader(name: string): boolean {
  return COOKIE_HEADERS.has(name.toLowerCase()) || isCredentialHeader(name);
}

/**
 * The request headers a job's identity token may ride in, besides the CONNECT's
 * Proxy-Authorization (identity/carriers.ts reads them). Each is a credential header too, so the
 * strip step removes it and the recording redacts it.
 */
export const TOKEN_HEADERS = ['proxy-authorization', 'authorization', 'dd-api-key', 'dd-application-key'] as const;

/** The headers the vaulted key is injected as (any spelling of them from the agent is replaced). */
export const KEY_HEADERS = ['dd-api-key', 'dd-application-key'] as const;

/**
 * Log object fields that could carry a credential: the net under redaction at the source
 * (log.ts). Fixed paths only: wildcard paths made pino's redaction about 4% of the proxy's CPU.
 */
export const LOG_REDACT_PATHS: readonly string[] = [
  'token',
  'jwt',
  'apiKey',
  'appKey',
  ...['headers', 'req.headers'].flatMap((at) => TOKEN_HEADERS.map((h) => (/^[a-z]+$/.test(h) ? `${at}.${h}` : `${at}["${h}"]`))),
];

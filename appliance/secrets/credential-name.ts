// Which header, query parameter and cookie names carry a Datadog credential. A rule, not a list:
// servers and client libraries fold case, separators and brackets in names (`DD_API_KEY`,
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

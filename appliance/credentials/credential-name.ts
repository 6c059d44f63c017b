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
  return WORDS.some((w) => compact.includes(w));
}

/** A request header that carries a credential: a key-like name, or (Proxy-)Authorization. */
export function isCredentialHeader(name: string): boolean {
  const c = compactName(name);
  return hasKeyWord(c) || AUTH_HEADERS.has(c);
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

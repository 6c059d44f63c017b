// What to send for one recorded entry, or why not. Pure.
//
// Sent: only an exchange that reached Datadog and has its completed response (entry-outcome.ts).
// Never sent: a redaction placeholder. Headers whose name or value holds `[redacted:` are dropped (the
// credential headers are then injected afresh from the vault, exactly as the proxy does), query
// parameters likewise; a request whose PATH or BODY holds a placeholder is skipped, because removing it
// would change what the request means and sending it would send the placeholder.
import { entryOutcome, type HarEntry } from '../recording/har/index.js';
import { isSecretHeader } from '../secrets/credential-name.js';

export type ReplayPlan =
  | { readonly kind: 'send'; readonly method: string; readonly pathAndQuery: string; readonly headers: string[]; readonly body: Buffer | null }
  | { readonly kind: 'skip'; readonly method: string; readonly path: string; readonly reason: string };

const PLACEHOLDER = '[redacted:';
const ENCODED_PLACEHOLDER = /%5Bredacted%3A/i;

/** Hop-by-hop and recomputed headers: not copied from the recording; nor is any credential header or cookie (secrets/credential-name.ts). */
const DROPPED = new Set([
  'host',
  'content-length',
  'connection',
  'keep-alive',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'proxy-authenticate',
  'proxy-connection',
  // The replayed response is compared as JSON: ask for it uncompressed.
  'accept-encoding',
]);

function pathOf(url: URL): string {
  return url.pathname;
}

export function planReplay(e: HarEntry): ReplayPlan {
  const method = String(e.request?.method ?? 'GET').toUpperCase();
  let url: URL;
  try {
    url = new URL(String(e.request?.url));
  } catch {
    return { kind: 'skip', method, path: '?', reason: 'the recorded URL does not parse' };
  }
  const path = pathOf(url);
  const skip = (reason: string): ReplayPlan => ({ kind: 'skip', method, path, reason });
  const a = e._airlock;
  // A key-shaped path segment or a known secret in the path was recorded as a placeholder.
  if (ENCODED_PLACEHOLDER.test(url.pathname) || url.pathname.includes(PLACEHOLDER))
    return skip('the request path holds a redaction placeholder ([redacted:...]); the original value is not recorded');
  // Only what reached Datadog and got its answer is ever sent again: never a refusal (policy,
  // approver, rate limit, key management), never an exchange whose outcome is unknown.
  const outcome = entryOutcome(e);
  if (outcome.kind !== 'datadog') return skip(outcome.reason);
  if (a?.truncated?.request) {
    return skip(
      `the request body was truncated in the recording (${a.truncated.requestBytesRecorded ?? '?'} of ${a.truncated.requestBodySize ?? '?'} bytes): replaying it would send a different body`,
    );
  }
  let body: Buffer | null = null;
  if (typeof e.request.postData?.text === 'string' && e.request.postData.text !== '') {
    if (e.request.postData.text.includes(PLACEHOLDER))
      return skip('the request body holds a redaction placeholder ([redacted:...]); the original value is not recorded');
    body = Buffer.from(e.request.postData.text, 'utf8');
  } else if (typeof a?.requestBodyBase64 === 'string' && a.requestBodyBase64 !== '') {
    body = Buffer.from(a.requestBodyBase64, 'base64');
    if (body.includes(PLACEHOLDER)) return skip('the request body holds a redaction placeholder ([redacted:...]); the original value is not recorded');
  }
  const params = new URLSearchParams();
  for (const [k, v] of url.searchParams) {
    if (v.includes(PLACEHOLDER) || ENCODED_PLACEHOLDER.test(v)) continue;
    params.append(k, v);
  }
  const query = params.toString();
  const headers: string[] = [];
  for (const h of e.request.headers ?? []) {
    const name = String(h.name);
    if (DROPPED.has(name.toLowerCase()) || isSecretHeader(name) || name.startsWith(':') || name.includes(PLACEHOLDER) || String(h.value).includes(PLACEHOLDER))
      continue;
    headers.push(name, String(h.value));
  }
  headers.push('accept-encoding', 'identity');
  if (body) headers.push('content-length', String(body.length));
  return { kind: 'send', method, pathAndQuery: `${url.pathname}${query ? `?${query}` : ''}`, headers, body };
}

/** Top-level keys of a JSON object body, sorted; null when the text is not a JSON object. */
function topLevelKeys(text: string | undefined): string[] | null {
  if (text === undefined) return null;
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? Object.keys(v).sort() : null;
  } catch {
    return null;
  }
}

/** "yes" / "no" / "-" (when either side is not a complete JSON object). */
export function compareKeys(recorded: string | undefined, replayed: string | undefined): 'yes' | 'no' | '-' {
  const a = topLevelKeys(recorded);
  const b = topLevelKeys(replayed);
  if (!a || !b) return '-';
  return a.length === b.length && a.every((k, i) => k === b[i]) ? 'yes' : 'no';
}

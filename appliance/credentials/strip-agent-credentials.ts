import { decodeComponent, isCredentialCookie, isCredentialHeader, isCredentialParam } from '../secrets/credential-name.js';
import { redactKeyShapes } from '../secrets/key-shape.js';

// Removes every Datadog credential the agent supplied, so only the vaulted key (injected
// afterwards) can reach upstream. Everything else passes byte-for-byte: the query is cut into
// its raw pieces and never decoded and re-encoded.

export interface StripInput {
  /** path+query as on the request line (absolute-form is tolerated). */
  readonly path: string;
  /** node's flat [name, value, name, value, ...]. */
  readonly rawHeaders: readonly string[];
}

export interface StripResult {
  readonly path: string;
  readonly rawHeaders: string[];
  /** What was removed, once per kind: "header:dd-api-key", "query:api_key", "cookie:dd_api_key", "path:/v1/input key". */
  readonly stripped: string[];
  /** Every removed value (raw, plus decoded forms), so the recorder can redact any echo of them. */
  readonly removedValues: string[];
}

// Which names are credentials is a rule (credential-name.ts). The labels of the names Airlock
// has always known stay as they were, so existing recordings and queries keep matching: header
// labels fold "_" into "-" (CGI/WSGI servers treat DD_API_KEY and DD-API-KEY alike), and the
// four classic query names keep their historical labels.
const LEGACY_QUERY_LABELS: ReadonlyMap<string, string> = new Map([
  ['api_key', 'query:api_key'],
  ['application_key', 'query:application_key'],
  ['dd_api_key', 'query:dd-api-key'],
  ['dd_application_key', 'query:dd-application-key'],
]);

/** Labels are recorded unredacted in `_airlock.stripped`: printable ASCII, no key shapes, bounded. */
const MAX_LABEL_NAME = 64;

const V1_INPUT_RE = /^(\/v1\/input)\/([^/]+)(\/.*)?$/i;

export function stripAgentCredentials(req: StripInput): StripResult {
  const stripped: string[] = [];
  const removed: string[] = [];
  const note = (label: string): void => {
    if (!stripped.includes(label)) stripped.push(label);
  };

  const rawHeaders: string[] = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i] ?? '';
    const value = req.rawHeaders[i + 1] ?? '';
    if (isCredentialHeader(name)) {
      note(`header:${safeLabelName(name.toLowerCase().replaceAll('_', '-'))}`);
      removed.push(...headerSecretForms(value));
    } else if (name.toLowerCase() === 'cookie') {
      const c = stripCookies(value);
      for (const label of c.labels) note(label);
      removed.push(...c.removed);
      if (c.value !== null) rawHeaders.push(name, c.value);
    } else {
      rawHeaders.push(name, value);
    }
  }

  const { prefix, pathname, query } = splitTarget(req.path);

  let newPath = pathname;
  const m = V1_INPUT_RE.exec(pathname);
  if (m) {
    // Legacy logs intake: the key was the last path segment. Without it the intake reads the
    // key from the DD-API-KEY header, which the injection step sets to the vaulted key.
    newPath = m[1]! + (m[3] ?? '');
    note('path:/v1/input key');
    removed.push(...rawAndDecoded(m[2]!));
  }

  let newQuery = query;
  if (query !== null) {
    const q = stripQuery(query);
    for (const label of q.labels) note(label);
    removed.push(...q.removed);
    if (q.labels.length > 0 && q.query === '') newQuery = null;
    else newQuery = q.query;
  }

  return {
    path: prefix + newPath + (newQuery === null ? '' : `?${newQuery}`),
    rawHeaders,
    stripped,
    removedValues: [...new Set(removed.filter((v) => v !== ''))],
  };
}

function splitTarget(target: string): { prefix: string; pathname: string; query: string | null } {
  let prefix = '';
  let rest = target;
  const abs = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i.exec(target);
  if (abs) {
    prefix = abs[0];
    rest = target.slice(prefix.length);
  }
  const q = rest.indexOf('?');
  if (q === -1) return { prefix, pathname: rest, query: null };
  return { prefix, pathname: rest.slice(0, q), query: rest.slice(q + 1) };
}

function stripQuery(query: string): { query: string; labels: string[]; removed: string[] } {
  // Split on ";" as well as "&": some server frameworks treat both as separators, so
  // `a=1;api_key=K` must not slip a key through. Separators are kept to rebuild the rest verbatim.
  const tokens = query.split(/([&;])/);
  const kept: { sep: string; piece: string }[] = [];
  const labels: string[] = [];
  const removed: string[] = [];
  for (let i = 0; i < tokens.length; i += 2) {
    const piece = tokens[i] ?? '';
    const sep = i === 0 ? '' : (tokens[i - 1] ?? '');
    const eq = piece.indexOf('=');
    const rawName = eq === -1 ? piece : piece.slice(0, eq);
    if (!isCredentialParam(rawName)) {
      kept.push({ sep, piece });
    } else {
      labels.push(queryLabel(rawName));
      if (eq !== -1) removed.push(...rawAndDecoded(piece.slice(eq + 1)));
    }
  }
  const out = kept.map((k, idx) => (idx === 0 ? k.piece : k.sep + k.piece)).join('');
  return { query: out, labels, removed };
}

function queryLabel(rawName: string): string {
  const legacy = LEGACY_QUERY_LABELS.get(decodeComponent(rawName).toLowerCase().replaceAll('-', '_'));
  // Otherwise the name as written (still percent-encoded), so the label shows the trick used.
  return legacy ?? `query:${safeLabelName(rawName.toLowerCase())}`;
}

/**
 * Cookie pairs whose name is a credential name are dropped; the rest of the header is kept as
 * written. null when nothing is left.
 */
function stripCookies(value: string): { value: string | null; labels: string[]; removed: string[] } {
  const pieces = value.split(';');
  const kept: string[] = [];
  const labels: string[] = [];
  const removed: string[] = [];
  for (const piece of pieces) {
    const eq = piece.indexOf('=');
    const name = (eq === -1 ? piece : piece.slice(0, eq)).trim();
    if (name !== '' && isCredentialCookie(name)) {
      labels.push(`cookie:${safeLabelName(name.toLowerCase())}`);
      if (eq !== -1) removed.push(...rawAndDecoded(piece.slice(eq + 1).trim()));
    } else {
      kept.push(piece);
    }
  }
  if (labels.length === 0) return { value, labels, removed };
  const rest = kept.join(';').trim();
  return { value: rest === '' ? null : rest, labels, removed };
}

/** Non-printable bytes percent-encoded, key-shaped runs redacted, long names cut. */
function safeLabelName(name: string): string {
  // Buffer, not encodeURIComponent: a lone surrogate must not throw.
  const printable = name.replace(/[^\x21-\x7e]/gu, (ch) =>
    [...Buffer.from(ch, 'utf8')].map((b) => `%${b.toString(16).padStart(2, '0').toUpperCase()}`).join(''),
  );
  const clean = redactKeyShapes(printable, '[key-shaped]');
  return clean.length > MAX_LABEL_NAME ? `${clean.slice(0, MAX_LABEL_NAME)}...` : clean;
}

function rawAndDecoded(raw: string): string[] {
  const decoded = decodeComponent(raw);
  return decoded === raw ? [raw] : [raw, decoded];
}

/** The header value, and the credential inside `Scheme cred` (and a Basic pair's password). */
function headerSecretForms(value: string): string[] {
  const out = [value];
  const m = /^\s*(\S+)\s+(\S.*?)\s*$/.exec(value);
  if (m) {
    const cred = m[2]!;
    out.push(cred);
    if (m[1]!.toLowerCase() === 'basic') {
      const decoded = Buffer.from(cred, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon !== -1) out.push(decoded, decoded.slice(colon + 1));
    }
  }
  const trimmed = value.trim();
  if (trimmed !== value) out.push(trimmed);
  return out;
}

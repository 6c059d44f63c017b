// `airlock sessions grep` criteria, applied to one HAR entry. Pure.
import type { HarEntry } from './har-types.js';
import { pathGlob } from '../../lib/path-glob.js';
import { CodedError } from '../../errors.js';

export interface ExchangeQuery {
  /** Upper case; any of them. */
  readonly methods?: readonly string[];
  readonly path?: RegExp;
  readonly status?: (status: number) => boolean;
  readonly body?: RegExp;
}

export class QueryError extends CodedError<'BAD_QUERY'> {
  constructor(message: string) {
    super('BAD_QUERY', message);
  }
}

/** `--path`: the policy's path patterns (lib/path-glob.ts), matched against the whole path (no query). */
export function globToRegExp(glob: string): RegExp {
  try {
    return pathGlob(glob);
  } catch (err) {
    throw new QueryError(`--path: ${(err as Error).message}`);
  }
}

/** "403", "4xx", "2xx,404": any of them. */
export function parseStatus(text: string): (status: number) => boolean {
  const parts = text.split(',').map((p) => p.trim().toLowerCase());
  const tests = parts.map((p) => {
    if (/^[1-5]xx$/.test(p)) {
      const base = Number(p[0]) * 100;
      return (s: number) => s >= base && s < base + 100;
    }
    if (/^\d{1,3}$/.test(p)) {
      const n = Number(p);
      return (s: number) => s === n;
    }
    throw new QueryError(`--status wants a code (403), a class (4xx) or a list of them, got ${JSON.stringify(text)}`);
  });
  return (s) => tests.some((t) => t(s));
}

export function parseBodyRegex(text: string): RegExp {
  try {
    return new RegExp(text);
  } catch (err) {
    throw new QueryError(`--body is not a regular expression: ${(err as Error).message}`);
  }
}

function pathOf(url: string): string {
  try {
    return new URL(url).pathname;
  } catch {
    return url;
  }
}

/** Body text as recorded; base64 content is decoded so that a pattern can match it. */
function texts(e: HarEntry): string[] {
  const out: string[] = [];
  if (typeof e.request.postData?.text === 'string') out.push(e.request.postData.text);
  if (typeof e._airlock.requestBodyBase64 === 'string') out.push(Buffer.from(e._airlock.requestBodyBase64, 'base64').toString('utf8'));
  const c = e.response.content;
  if (typeof c.text === 'string') out.push(c.encoding === 'base64' ? Buffer.from(c.text, 'base64').toString('utf8') : c.text);
  return out;
}

export function matchesExchange(e: HarEntry, q: ExchangeQuery): boolean {
  if (q.methods && q.methods.length > 0 && !q.methods.includes(String(e.request.method).toUpperCase())) return false;
  if (q.path && !q.path.test(pathOf(String(e.request.url)))) return false;
  if (q.status && !q.status(Number(e.response.status))) return false;
  if (q.body && !texts(e).some((t) => q.body!.test(t))) return false;
  return true;
}

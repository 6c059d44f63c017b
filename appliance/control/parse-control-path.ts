// The control socket's request target, parsed without ever throwing: the peer is a local user,
// but a URIError escaping a request handler once took the whole server down (issue #11, 6).
import { AirlockError } from '../errors.js';

const MAX_TARGET = 2_048;

/** Decodes one segment; null for a malformed or non-UTF-8 escape (decodeURIComponent throws on both). */
function decodeSegment(s: string): string | null {
  try {
    return decodeURIComponent(s);
  } catch {
    return null;
  }
}

/**
 * `/v1/approvals/ID/approve` → ['v1', 'approvals', 'ID', 'approve']. Only origin-form without a
 * query: every endpoint is a fixed path, so anything else is a client fault (400 BAD_REQUEST).
 */
export function parseControlPath(target: string | undefined): string[] {
  const t = target ?? '';
  if (t.length === 0 || t.length > MAX_TARGET || !t.startsWith('/')) {
    throw new AirlockError('BAD_REQUEST', 'the control socket takes origin-form paths such as /v1/approvals');
  }
  if (/[?#]/.test(t)) throw new AirlockError('BAD_REQUEST', 'control endpoints take no query string');
  const out: string[] = [];
  for (const raw of t.slice(1).split('/')) {
    const seg = decodeSegment(raw);
    if (seg === null) throw new AirlockError('BAD_REQUEST', 'the path has a malformed percent-escape');
    out.push(seg);
  }
  return out;
}

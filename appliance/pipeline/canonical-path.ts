// The one path normalization of Airlock: policy, strip, recording and forward all see the form
// made here, and it is the form sent upstream. Equivalent spellings collapse to one (dot segments,
// %2E-encoded ones too, repeated slashes, escaped unreserved characters); spellings whose meaning
// depends on the server behind (an escaped "/" or "\", NUL and control bytes, broken escapes, a
// ".." above the root) cannot be made unambiguous and are refused.

export class PathError extends Error {}

const HEX = /^[0-9A-Fa-f]{2}$/;
// RFC 3986 2.3: escaping these changes nothing, so they are decoded (`/v1/%69nput` is /v1/input).
const UNRESERVED = /^[A-Za-z0-9._~-]$/;

/** `raw` is the path of an origin-form target (no query). Throws PathError saying what to fix. */
export function canonicalPath(raw: string): string {
  if (!raw.startsWith('/')) throw new PathError('the path must start with "/"');
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c < 0x21 || c > 0x7e) throw new PathError('the path holds a control, space or non-ASCII byte: percent-encode it');
    if (c === 0x5c) throw new PathError('the path holds a backslash: send "/" separators only');
    if (c === 0x23) throw new PathError('a request target has no fragment: drop the "#" part');
  }
  const segments = raw.slice(1).split('/');
  const out: string[] = [];
  let trailingSlash = false;
  segments.forEach((rawSeg, i) => {
    const last = i === segments.length - 1;
    const seg = decodeSegment(rawSeg);
    if (seg === '' || seg === '.') {
      trailingSlash = last;
      return;
    }
    if (seg === '..') {
      if (out.length === 0) throw new PathError('the path climbs above the root with ".."');
      out.pop();
      trailingSlash = last;
      return;
    }
    out.push(seg);
    trailingSlash = false;
  });
  return `/${out.join('/')}${trailingSlash && out.length > 0 ? '/' : ''}`;
}

function decodeSegment(seg: string): string {
  if (!seg.includes('%')) return seg;
  let out = '';
  for (let i = 0; i < seg.length; i++) {
    const ch = seg[i]!;
    if (ch !== '%') {
      out += ch;
      continue;
    }
    const hex = seg.slice(i + 1, i + 3);
    if (!HEX.test(hex)) throw new PathError('the path holds an invalid percent escape: write "%" as %25');
    const byte = parseInt(hex, 16);
    if (byte === 0x2f || byte === 0x5c)
      throw new PathError('the path holds an escaped "/" or "\\" (%2F, %5C), which servers read differently: send the path unescaped');
    if (byte < 0x20 || byte === 0x7f) throw new PathError('the path holds an escaped NUL or control byte');
    const c = String.fromCharCode(byte);
    out += UNRESERVED.test(c) ? c : `%${hex.toUpperCase()}`;
    i += 2;
  }
  return out;
}

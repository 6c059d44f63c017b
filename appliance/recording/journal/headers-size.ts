// headersSize as HAR defines it: the bytes of the header block as HTTP/1.1 text, i.e. the
// request line (or status line), then "name: value\r\n" per header, then the final "\r\n".
// Computed from the unredacted headers so redaction does not change the number. HTTP/2 sends
// compressed header frames; the HTTP/1.1 form is what the proxy forwards and what tools show.
import type { HeaderPair } from '../../lib/exchange-types.js';

// Counted part by part, not by building each line as a string: the separators are ASCII, so the
// parts' UTF-8 lengths add up to the line's (a lone surrogate cannot pair across ": " or " ").
function headerLinesBytes(headers: readonly HeaderPair[]): number {
  let n = 2; // the blank line that ends the block
  for (const [name, value] of headers) n += Buffer.byteLength(name) + Buffer.byteLength(value) + 4; // ": " and CRLF
  return n;
}

/**
 * The request target in origin form (path + query) as it was sent: everything after the
 * authority of the absolute URL the proxy built, fragment aside. Not through new URL(), which
 * would resolve dot segments and re-encode, and so count bytes that were never on the wire.
 */
function requestTarget(url: string): string {
  const scheme = url.indexOf('://');
  const slash = scheme < 0 ? url.indexOf('/') : url.indexOf('/', scheme + 3);
  const target = slash < 0 ? '/' : url.slice(slash);
  const hash = target.indexOf('#');
  return hash < 0 ? target : target.slice(0, hash);
}

export function requestHeadersSize(method: string, url: string, httpVersion: string, headers: readonly HeaderPair[]): number {
  return Buffer.byteLength(method) + Buffer.byteLength(requestTarget(url)) + Buffer.byteLength(httpVersion) + 4 + headerLinesBytes(headers);
}

export function responseHeadersSize(httpVersion: string, status: number, statusText: string, headers: readonly HeaderPair[]): number {
  return Buffer.byteLength(httpVersion) + String(status).length + Buffer.byteLength(statusText) + 4 + headerLinesBytes(headers);
}

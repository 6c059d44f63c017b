import type { HeaderPair } from './exchange-types.js';

// Hop-by-hop headers belong to one connection and are never forwarded (RFC 9110 7.6.1).
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** Node's flat rawHeaders minus hop-by-hop headers and those the Connection header names. */
export function endToEndHeaders(raw: readonly string[]): string[] {
  const named = new Set<string>();
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (raw[i]!.toLowerCase() === 'connection') {
      for (const t of raw[i + 1]!.split(',')) named.add(t.trim().toLowerCase());
    }
  }
  const out: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (HOP_BY_HOP.has(name) || named.has(name)) continue;
    out.push(raw[i]!, raw[i + 1]!);
  }
  return out;
}

export function toPairs(raw: readonly string[]): HeaderPair[] {
  const out: HeaderPair[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) out.push([raw[i]!, raw[i + 1]!]);
  return out;
}

export function headerValue(raw: readonly string[], name: string): string | undefined {
  const n = name.toLowerCase();
  for (let i = 0; i + 1 < raw.length; i += 2) if (raw[i]!.toLowerCase() === n) return raw[i + 1];
  return undefined;
}

export function setHeader(raw: readonly string[], name: string, value: string): string[] {
  const n = name.toLowerCase();
  const out: string[] = [];
  let done = false;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (raw[i]!.toLowerCase() === n) {
      if (!done) out.push(raw[i]!, value);
      done = true;
    } else out.push(raw[i]!, raw[i + 1]!);
  }
  if (!done) out.push(name, value);
  return out;
}

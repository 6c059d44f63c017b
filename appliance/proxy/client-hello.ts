// Reads the server name from a TLS ClientHello without consuming it, for the transparent
// listener: the bytes are replayed afterwards to our TLS server or, for a blind tunnel, upstream.
// RFC 8446 4.1.2 / RFC 6066 3. Every length is checked against what was received.

export type HelloResult = { kind: 'incomplete' } | { kind: 'not-tls' } | { kind: 'hello'; servername: string | null };

/** Parses as much as `buf` holds; `incomplete` means read more (callers cap how much). */
export function readClientHello(buf: Buffer): HelloResult {
  if (buf.length < 5) return { kind: 'incomplete' };
  if (buf[0] !== 0x16 || buf[1] !== 0x03) return { kind: 'not-tls' };
  const recordLen = buf.readUInt16BE(3);
  // A ClientHello may span records in theory; in practice it fits one (<= 16 KiB). Refuse more.
  if (buf.length < 5 + recordLen) return { kind: 'incomplete' };
  const hs = buf.subarray(5, 5 + recordLen);
  if (hs.length < 4 || hs[0] !== 0x01) return { kind: 'not-tls' };
  const hsLen = hs.readUIntBE(1, 3);
  if (hsLen + 4 > hs.length) return { kind: 'not-tls' };
  let p = 4 + 2 + 32; // version, random
  const need = (n: number): boolean => p + n <= 4 + hsLen;
  if (!need(1)) return { kind: 'not-tls' };
  p += 1 + hs[p]!; // session id
  if (!need(2)) return { kind: 'not-tls' };
  p += 2 + hs.readUInt16BE(p); // cipher suites
  if (!need(1)) return { kind: 'not-tls' };
  p += 1 + hs[p]!; // compression methods
  if (!need(2)) return { kind: 'hello', servername: null };
  const extEnd = p + 2 + hs.readUInt16BE(p);
  p += 2;
  if (extEnd > 4 + hsLen) return { kind: 'not-tls' };
  while (p + 4 <= extEnd) {
    const type = hs.readUInt16BE(p);
    const len = hs.readUInt16BE(p + 2);
    p += 4;
    if (p + len > extEnd) return { kind: 'not-tls' };
    if (type === 0) {
      // server_name: list length, then entries of (type 0 = host_name, length, name)
      let q = p + 2;
      const listEnd = Math.min(p + 2 + hs.readUInt16BE(p), p + len);
      while (q + 3 <= listEnd) {
        const nameType = hs[q]!;
        const nameLen = hs.readUInt16BE(q + 1);
        q += 3;
        if (q + nameLen > listEnd) return { kind: 'not-tls' };
        if (nameType === 0) {
          const name = hs.subarray(q, q + nameLen).toString('ascii');
          return /^[A-Za-z0-9.-]{1,253}$/.test(name) ? { kind: 'hello', servername: name } : { kind: 'not-tls' };
        }
        q += nameLen;
      }
      return { kind: 'hello', servername: null };
    }
    p += len;
  }
  return { kind: 'hello', servername: null };
}

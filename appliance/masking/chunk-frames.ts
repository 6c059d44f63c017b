// Writes a streamed body's chunks straight to the client's socket, framed by hand: one chunk
// header for everything ready at once instead of node's one per write.
//
// Why: `res.write(buf)` on a chunked response sends `size CRLF buf CRLF` for every call. A body
// chunk from the upstream is one TLS record's plaintext (16,384 bytes), so each framed chunk is
// 16,392 bytes and the client-facing TLS layer sends it as a full record plus an 8-byte record.
// The client then decrypts, wakes up for and parses twice the records the bare engine sends it
// (it forwards Content-Length and writes the records as they came), and the proxy encrypts them.
// Gathering what arrived together into one chunk, cut so that a frame fills whole TLS records,
// gives the client the bare engine's record count.
//
// Only while node's own state allows it (wireOf): a chunked response that owns its socket, whose
// head has reached that socket. Node still writes the head and, on `res.end()`, the last chunk.
import type { Socket } from 'node:net';

const CRLF = Buffer.from('\r\n', 'latin1');
/** The plaintext of one full TLS record (RFC 8446 5.1: 2^14 bytes). */
export const RECORD = 16_384;

/** What chunk-frames reads of the client's response (an http.ServerResponse). */
interface WireState {
  readonly socket?: Socket | null;
  readonly chunkedEncoding?: boolean;
  readonly writableLength?: number;
}

/**
 * The socket a chunk can be framed onto now, or null: the response is not chunked (an HTTP/1.0
 * client reads to the close, and a test's sink has no socket), is not (or no longer) the one its
 * socket is writing, or still holds bytes of its own (its head) that must go first.
 */
export function wireOf(res: object): Socket | null {
  const r = res as WireState;
  const s = r.socket;
  if (s === null || s === undefined || r.chunkedEncoding !== true || s.destroyed || !s.writable) return null;
  return r.writableLength === s.writableLength ? s : null;
}

/** Bytes of framing around a chunk of `n` bytes: hex size, CRLF, and the CRLF after the data. */
function overhead(n: number): number {
  return n.toString(16).length + 4;
}

/**
 * The most of `available` bytes that, framed, fill whole TLS records (0 when less than one
 * record's worth is available): what to send now so no small record follows the full ones.
 */
export function alignedPayload(available: number): number {
  const frame = Math.floor((available + overhead(available)) / RECORD) * RECORD;
  if (frame === 0) return 0;
  let n = frame - overhead(frame);
  // The hex size can be one digit shorter than the frame's; then one more byte of data fits.
  if (n + overhead(n) < frame) n = frame - overhead(n);
  return n + overhead(n) === frame && n <= available ? n : 0;
}

/** One chunk of `len` bytes made of `bufs`, in one write of the socket (one TLS write). */
export function writeFrame(sock: Socket, bufs: readonly Buffer[], len: number): void {
  sock.cork();
  sock.write(Buffer.from(`${len.toString(16)}\r\n`, 'latin1'));
  for (const b of bufs) sock.write(b);
  sock.write(CRLF);
  sock.uncork();
}

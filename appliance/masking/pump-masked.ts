// Sends a streamed (uncoded) response body to the client through a StreamMasker: the held prefix,
// then the rest as it arrives. A direct data handler, not stream.pipeline: pipeline with an async
// generator source and two Transforms cost a promise, two Transform hops and their bookkeeping per
// chunk, most of what a large body cost beyond the TLS writes themselves.
// Chunks are gathered and written together (chunk-frames.ts): at once when they fill whole TLS
// records, the rest when the event loop has read everything that was ready (setImmediate).
// Backpressure: `rest` is paused while the client's socket has bytes it could not hand to the
// kernel (or, on the plain path, while `res` is over its high-water mark) and resumed on 'drain',
// so at most a socket buffer and one gathered frame are held. Either side failing or closing
// early ends the exchange the way pipeline did: both destroyed (the client sees a cut body, never
// raw bytes, and the upstream socket is never reused), resolved with the error for the caller.
import type { Readable } from 'node:stream';
import type { Socket } from 'node:net';
import type { StreamMasker } from './mask-stream.js';
import { alignedPayload, RECORD, wireOf, writeFrame } from './chunk-frames.js';

/** What pump needs of the client's response (an http.ServerResponse). */
export interface BodySink {
  write(chunk: Buffer): boolean;
  end(): unknown;
  destroy(): unknown;
  on(event: 'drain' | 'finish' | 'close', fn: () => void): unknown;
  on(event: 'error', fn: (err: Error) => void): unknown;
  off(event: 'drain', fn: () => void): unknown;
}

export interface Pumped {
  /** Body bytes handed to `res`. */
  readonly bytes: number;
  /** Set when the body was cut. */
  readonly error?: NodeJS.ErrnoException;
}

/** Gathered bytes are written at once from this much on (four full records), in whole records. */
const FRAME_AT = 4 * RECORD;

function prematureClose(): NodeJS.ErrnoException {
  return Object.assign(new Error('Premature close'), { code: 'ERR_STREAM_PREMATURE_CLOSE' });
}

export function pumpMasked(held: readonly Buffer[], rest: Readable, masker: StreamMasker, res: BodySink): Promise<Pumped> {
  return new Promise<Pumped>((resolve) => {
    let bytes = 0;
    let settled = false;
    let restEnded = false;
    let headSent = false;
    /** Masked bytes not yet written, in order, and their length. */
    let pending: Buffer[] = [];
    let pendingLen = 0;
    let later: NodeJS.Immediate | undefined;
    /** The socket whose 'drain' resumes `rest`, once chunks are framed onto it. */
    let wired: Socket | null = null;

    // Writes `len` bytes of `pending` (all of it, or a whole-records cut); false: pause `rest`.
    const write = (len: number): boolean => {
      let bufs = pending;
      if (len === pendingLen) {
        pending = [];
        pendingLen = 0;
      } else {
        bufs = [];
        let need = len;
        while (need > 0) {
          const b = pending[0]!;
          if (b.length <= need) {
            bufs.push(b);
            pending.shift();
            need -= b.length;
          } else {
            bufs.push(b.subarray(0, need));
            pending[0] = b.subarray(need);
            need = 0;
          }
        }
        pendingLen -= len;
      }
      bytes += len;
      let ok = true;
      let i = 0;
      // Node writes the head; it goes with the first bytes, framed by node.
      if (!headSent) {
        headSent = true;
        ok = res.write(bufs[i++]!);
      }
      const sock = i < bufs.length ? wireOf(res) : null;
      if (sock === null) {
        for (; i < bufs.length; i++) if (!res.write(bufs[i]!)) ok = false;
        return ok;
      }
      if (wired !== sock) {
        wired?.off('drain', onDrain);
        wired = sock;
        sock.on('drain', onDrain);
      }
      writeFrame(sock, i === 0 ? bufs : bufs.slice(i), i === 0 ? len : len - bufs[0]!.length);
      // Handed to the kernel at once unless the client is behind: then wait for its 'drain'.
      return ok && !(sock.writableLength > 0 && sock.writableNeedDrain);
    };
    /** Set while `rest` waits for the client's 'drain'. */
    let blocked = false;
    const block = (): void => {
      blocked = true;
      rest.pause();
    };
    // After a loop turn's reads: whole records now and the rest one turn later, unless more
    // data has joined it by then (an 8-byte tail sent at once would be a TLS record of its own).
    // While blocked, nothing: 'drain' schedules this again.
    const flushLater = (): void => {
      later = undefined;
      if (settled || pendingLen === 0 || blocked) return;
      const whole = alignedPayload(pendingLen);
      if (!write(whole > 0 ? whole : pendingLen)) block();
      if (pendingLen > 0) later = setImmediate(flushLater);
    };
    const queue = (bufs: readonly Buffer[]): void => {
      for (const b of bufs) {
        if (b.length === 0) continue;
        pending.push(b);
        pendingLen += b.length;
      }
    };
    const add = (bufs: readonly Buffer[]): void => {
      queue(bufs);
      if (pendingLen >= FRAME_AT && !write(alignedPayload(pendingLen))) block();
      if (pendingLen > 0 && later === undefined && !settled) later = setImmediate(flushLater);
    };
    // The 'error' and 'close' handlers stay attached after settling (no-ops then): an error
    // emitted with no listener would throw.
    const settle = (error?: NodeJS.ErrnoException): void => {
      if (settled) return;
      settled = true;
      if (later !== undefined) clearImmediate(later);
      rest.off('data', onData);
      res.off('drain', onDrain);
      wired?.off('drain', onDrain);
      if (error) {
        rest.destroy();
        res.destroy();
        resolve({ bytes, error });
      } else resolve({ bytes });
    };
    const onData = (chunk: Buffer): void => add(masker.push(chunk));
    const onDrain = (): void => {
      blocked = false;
      if (settled) return;
      rest.resume();
      if (pendingLen > 0 && later === undefined) later = setImmediate(flushLater);
    };
    rest.on('error', (err: NodeJS.ErrnoException) => settle(err));
    rest.on('close', () => {
      if (!restEnded) settle(prematureClose());
    });
    rest.on('end', () => {
      restEnded = true;
      if (settled) return;
      queue(masker.end());
      if (later !== undefined) clearImmediate(later);
      later = undefined;
      if (pendingLen > 0) write(pendingLen);
      res.end();
    });
    res.on('error', (err: NodeJS.ErrnoException) => settle(err));
    res.on('close', () => settle(prematureClose()));
    res.on('finish', () => settle());
    res.on('drain', onDrain);

    for (const c of held) add(masker.push(c));
    // Gone before it was read (the upstream reset while the exchange was being recorded).
    if (rest.destroyed && !rest.readableEnded) return settle(rest.errored ?? prematureClose());
    rest.on('data', onData);
    if (!blocked) rest.resume();
  });
}

// Sends a streamed (uncoded) response body to the client through a StreamMasker: the held prefix,
// then the rest as it arrives. A direct data handler, not stream.pipeline: pipeline with an async
// generator source and two Transforms cost a promise, two Transform hops and their bookkeeping per
// chunk, most of what a large body cost beyond the TLS writes themselves.
// Backpressure: `rest` is paused while `res` is above its high-water mark and resumed on 'drain',
// so at most a socket buffer and one chunk are held. Either side failing or closing early ends the
// exchange the way pipeline did: both destroyed (the client sees a cut body, never raw bytes, and
// the upstream socket is never reused), resolved with the error for the caller to log.
import type { Readable } from 'node:stream';
import type { StreamMasker } from './mask-stream.js';

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

function prematureClose(): NodeJS.ErrnoException {
  return Object.assign(new Error('Premature close'), { code: 'ERR_STREAM_PREMATURE_CLOSE' });
}

export function pumpMasked(held: readonly Buffer[], rest: Readable, masker: StreamMasker, res: BodySink): Promise<Pumped> {
  return new Promise<Pumped>((resolve) => {
    let bytes = 0;
    let settled = false;
    let restEnded = false;
    const send = (bufs: readonly Buffer[]): boolean => {
      let ok = true;
      for (const b of bufs) {
        if (b.length === 0) continue;
        bytes += b.length;
        if (!res.write(b)) ok = false;
      }
      return ok;
    };
    // The 'error' and 'close' handlers stay attached after settling (no-ops then): an error
    // emitted with no listener would throw.
    const settle = (error?: NodeJS.ErrnoException): void => {
      if (settled) return;
      settled = true;
      rest.off('data', onData);
      res.off('drain', onDrain);
      if (error) {
        rest.destroy();
        res.destroy();
        resolve({ bytes, error });
      } else resolve({ bytes });
    };
    const onData = (chunk: Buffer): void => {
      if (!send(masker.push(chunk))) rest.pause();
    };
    const onDrain = (): void => {
      if (!settled) rest.resume();
    };
    rest.on('error', (err: NodeJS.ErrnoException) => settle(err));
    rest.on('close', () => {
      if (!restEnded) settle(prematureClose());
    });
    rest.on('end', () => {
      restEnded = true;
      if (settled) return;
      send(masker.end());
      res.end();
    });
    res.on('error', (err: NodeJS.ErrnoException) => settle(err));
    res.on('close', () => settle(prematureClose()));
    res.on('finish', () => settle());
    res.on('drain', onDrain);

    const ok = send(held.flatMap((c) => masker.push(c)));
    // Gone before it was read (the upstream reset while the exchange was being recorded).
    if (rest.destroyed && !rest.readableEnded) return settle(rest.errored ?? prematureClose());
    rest.on('data', onData);
    if (ok) rest.resume();
    else rest.pause();
  });
}

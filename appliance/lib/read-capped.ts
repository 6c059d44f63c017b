// A request body read whole into memory under a hard cap: the proxy's policy/approval reads, the
// control socket, the console and the listener's login API each need exactly this. No library
// does it with the one thing the proxy needs: the bytes read before giving up, to put back.
import type { Readable } from 'node:stream';

export type CappedBody =
  | { readonly ok: true; readonly bytes: Buffer }
  | {
      readonly ok: false;
      readonly why: 'too-large' | 'aborted' | 'error' | 'timeout';
      /** The stream error's code or message, for `error`. */
      readonly detail?: string;
      /** What was read before giving up (the stream is left paused after it). */
      readonly consumed: Buffer;
    };

export function readCapped(stream: Readable, cap: number, opts: { readonly timeoutMs?: number } = {}): Promise<CappedBody> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const timer = opts.timeoutMs === undefined ? undefined : setTimeout(() => fail('timeout'), opts.timeoutMs);
    timer?.unref();
    const settle = (r: CappedBody): void => {
      clearTimeout(timer);
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onError);
      stream.off('aborted', onAborted);
      stream.off('close', onAborted);
      resolve(r);
    };
    const fail = (why: 'too-large' | 'aborted' | 'error' | 'timeout', detail?: string): void => {
      stream.pause();
      settle({ ok: false, why, ...(detail !== undefined ? { detail } : {}), consumed: Buffer.concat(chunks, size) });
    };
    const onData = (c: Buffer): void => {
      size += c.length;
      chunks.push(c);
      if (size > cap) fail('too-large');
    };
    const onEnd = (): void => settle({ ok: true, bytes: Buffer.concat(chunks, size) });
    const onError = (err: Error): void => fail('error', (err as NodeJS.ErrnoException).code ?? err.message);
    // The client went away mid-body ('close' before 'end'): without this the read would never settle.
    const onAborted = (): void => fail('aborted');
    stream.on('data', onData);
    stream.once('end', onEnd);
    stream.once('error', onError);
    stream.once('aborted', onAborted);
    stream.once('close', onAborted);
    // The proxy library pauses requests explicitly; a 'data' listener alone does not resume them.
    stream.resume();
  });
}

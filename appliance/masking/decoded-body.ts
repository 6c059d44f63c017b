// A coded streamed body (gzip, br, deflate; response-codings.ts) as one Readable of its decoded
// bytes, for pump-masked.ts: the held prefix then the rest of the upstream body go through one
// zlib decoder per coding, joined with pipe() (a write per chunk, no promise, no Transform of our
// own), so coded bodies take the uncoded path's pump: its backpressure (pausing the last decoder
// fills the ones before it and pipe() pauses the upstream), its gathered TLS-record framing and
// its error handling.
//
// Failure anywhere ends every part, the way stream.pipeline did: an upstream error or early close,
// a corrupt layer (zlib's error), or the pump destroying the decoded stream (the client went
// away) destroys the upstream and every decoder, and the decoded stream errors (or closes) so the
// pump cuts the client's body. Never raw bytes: the client only ever gets decoder output.
import zlib from 'node:zlib';
import type { Readable, Transform } from 'node:stream';

/**
 * Decoder output chunk size. Each zlib step (a thread-pool job, then a 'data' event and a pump
 * step) fills at most this much; zlib's default, 16 KiB, takes about seven steps per 16 KiB TLS
 * record of a JSON body compressed 7:1. 256 KiB covers one record's worth at up to 16:1, so a
 * step is usually one upstream chunk; the pump writes it in whole TLS records (chunk-frames.ts).
 * Held per decoder layer (at most four) of a streamed response, with backpressure.
 */
const DECODED_CHUNK = 256 * 1024;

function decoder(encoding: string): Transform {
  const opts = { chunkSize: DECODED_CHUNK };
  if (encoding === 'br') return zlib.createBrotliDecompress(opts);
  if (encoding === 'deflate') return zlib.createInflate(opts);
  return zlib.createGunzip(opts);
}

function prematureClose(): NodeJS.ErrnoException {
  return Object.assign(new Error('Premature close'), { code: 'ERR_STREAM_PREMATURE_CLOSE' });
}

/** `held` then `rest`, undone by `codings` (decoding order, at least one), as one stream. */
export function decodedBody(held: readonly Buffer[], rest: Readable, codings: readonly string[]): Readable {
  const stages = codings.map(decoder);
  const first = stages[0]!;
  const last = stages[stages.length - 1]!;
  let failed = false;
  // The error goes to the last decoder (what the pump reads); the others are only destroyed.
  const fail = (err: NodeJS.ErrnoException): void => {
    if (failed) return;
    failed = true;
    rest.destroy();
    for (const s of stages) if (s !== last) s.destroy();
    last.destroy(err);
  };
  for (const s of stages) {
    s.on('error', fail);
    s.on('close', () => {
      if (!s.readableEnded) fail(prematureClose());
    });
  }
  // Attached for as long as `rest` lives: an error emitted after failing still has a listener.
  let restEnded = false;
  rest.on('end', () => {
    restEnded = true;
  });
  rest.on('error', fail);
  rest.on('close', () => {
    if (!restEnded) fail(prematureClose());
  });
  for (let i = 0; i + 1 < stages.length; i++) stages[i]!.pipe(stages[i + 1]!);
  for (const h of held) first.write(h);
  // Gone before it was read (the upstream reset while the exchange was being recorded).
  if (rest.destroyed && !rest.readableEnded) fail(rest.errored ?? prematureClose());
  else rest.pipe(first);
  return last;
}

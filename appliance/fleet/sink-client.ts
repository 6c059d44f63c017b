// Reading a fleet's sink: list keys under a prefix (paged) and get one object (capped). The SDK is
// loaded on first use. Credentials come from the AWS chain, never from Airlock's config.
import type { S3Client } from '@aws-sdk/client-s3';
import type { SinkConfig } from '../config/schema.js';
import { CodedError } from '../errors.js';

class SinkError extends CodedError<'SINK_UNREACHABLE' | 'SINK_OBJECT_TOO_LARGE'> {}

export interface SinkReader {
  /** Every key under `prefix`, in the sink's (lexical) order, a page at a time. */
  list(prefix: string): AsyncGenerator<string>;
  /** The object's bytes, or null when there is none. */
  get(key: string, maxBytes: number): Promise<Buffer | null>;
  readonly where: string;
  close(): void;
}

type Sdk = typeof import('@aws-sdk/client-s3');

function reason(err: unknown): string {
  const e = err as { name?: unknown; $metadata?: { httpStatusCode?: unknown } };
  const status = e.$metadata?.httpStatusCode;
  return `${typeof e.name === 'string' ? e.name : 'error'}${typeof status === 'number' ? ` (HTTP ${status})` : ''}`;
}

export function sinkReader(sink: SinkConfig): SinkReader {
  let ready: Promise<{ client: S3Client; m: Sdk }> | null = null;
  const sdk = (): Promise<{ client: S3Client; m: Sdk }> =>
    (ready ??= import('@aws-sdk/client-s3').then((m) => ({
      m,
      client: new m.S3Client({
        region: sink.region,
        ...(sink.endpoint ? { endpoint: sink.endpoint } : {}),
        forcePathStyle: sink.forcePathStyle,
        maxAttempts: 3,
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
        requestHandler: { connectionTimeout: 5_000, requestTimeout: 60_000 },
      }),
    })));
  const where = `s3://${sink.bucket}/${sink.prefix}`;
  return {
    where,
    async *list(prefix) {
      const { client, m } = await sdk();
      // ListObjects (v1) paged by Marker: every S3 implementation has it, and s3rver's v2
      // continuation tokens use a cipher OpenSSL 3 no longer offers.
      let marker: string | undefined;
      for (;;) {
        let page;
        try {
          page = await client.send(new m.ListObjectsCommand({ Bucket: sink.bucket, Prefix: prefix, ...(marker ? { Marker: marker } : {}) }));
        } catch (err) {
          throw new SinkError('SINK_UNREACHABLE', `cannot list ${where} (${prefix}): ${reason(err)}`);
        }
        const keys = (page.Contents ?? []).map((o) => o.Key).filter((k): k is string => typeof k === 'string');
        yield* keys;
        const last = page.NextMarker ?? keys[keys.length - 1];
        if (!page.IsTruncated || last === undefined || last === marker) return;
        marker = last;
      }
    },
    async get(key, maxBytes) {
      const { client, m } = await sdk();
      let r;
      try {
        r = await client.send(new m.GetObjectCommand({ Bucket: sink.bucket, Key: key }));
      } catch (err) {
        const name = (err as { name?: unknown }).name;
        if (name === 'NoSuchKey' || name === 'NotFound') return null;
        throw new SinkError('SINK_UNREACHABLE', `cannot read s3://${sink.bucket}/${key}: ${reason(err)}`);
      }
      if (typeof r.ContentLength === 'number' && r.ContentLength > maxBytes) {
        (r.Body as { destroy?: () => void } | undefined)?.destroy?.();
        throw new SinkError('SINK_OBJECT_TOO_LARGE', `s3://${sink.bucket}/${key} is larger than ${maxBytes} bytes`);
      }
      const bytes = Buffer.from((await r.Body?.transformToByteArray()) ?? new Uint8Array());
      if (bytes.length > maxBytes) throw new SinkError('SINK_OBJECT_TOO_LARGE', `s3://${sink.bucket}/${key} is larger than ${maxBytes} bytes`);
      return bytes;
    },
    close: () =>
      void ready?.then(
        (s) => s.client.destroy(),
        () => undefined,
      ),
  };
}

/**
 * Maps `items` through `fn` with at most `width` calls under way, yielding results in input order
 * as soon as each one's turn comes: a day's records stream out while later ones are fetched.
 */
export async function* mapOrdered<T, R>(items: AsyncIterable<T>, width: number, fn: (t: T) => Promise<R>): AsyncGenerator<R> {
  const queue: Promise<R>[] = [];
  for await (const item of items) {
    const p = fn(item);
    p.catch(() => undefined);
    queue.push(p);
    if (queue.length >= width) yield await queue.shift()!;
  }
  while (queue.length > 0) yield await queue.shift()!;
}

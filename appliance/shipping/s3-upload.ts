// Uploads one session's HAR and signature with @aws-sdk/client-s3. Credentials come from the
// SDK's default chain (environment, shared files, instance role), never from Airlock's config.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Config } from '../config/schema.js';
import { sessionPaths } from '../recording/session-paths.js';

export type SinkConfig = NonNullable<Config['recording']['sink']>;
export type Upload = (id: string) => Promise<void>;

export function objectKeys(sink: SinkConfig, id: string): { har: string; sig: string } {
  return { har: `${sink.prefix}${id}.har`, sig: `${sink.prefix}${id}.har.sig` };
}

/** The SDK is loaded on first use: most CLI commands never ship, and it is a large import. */
export function s3Upload(sink: SinkConfig, sessionsDir: string): { upload: Upload; close: () => void } {
  let sdk: Promise<{ client: S3Client; Put: typeof import('@aws-sdk/client-s3').PutObjectCommand }> | null = null;
  const ready = (): NonNullable<typeof sdk> =>
    (sdk ??= import('@aws-sdk/client-s3').then((m) => ({
      client: new m.S3Client({
        region: sink.region,
        ...(sink.endpoint ? { endpoint: sink.endpoint } : {}),
        forcePathStyle: sink.forcePathStyle,
        // The outbox retries with its own backoff; one attempt per call keeps a stuck sink from
        // holding the worker.
        maxAttempts: 1,
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
        requestHandler: { connectionTimeout: 5_000, requestTimeout: 120_000 },
      }),
      Put: m.PutObjectCommand,
    })));
  const put = async (key: string, file: string, contentType: string): Promise<void> => {
    const { client, Put } = await ready();
    const { size } = await stat(file);
    await client.send(new Put({ Bucket: sink.bucket, Key: key, Body: createReadStream(file), ContentLength: size, ContentType: contentType }));
  };
  return {
    async upload(id) {
      const paths = sessionPaths(sessionsDir, id);
      const keys = objectKeys(sink, id);
      // The HAR first: a signature without its HAR proves nothing, a HAR without one is flagged by verify.
      await put(keys.har, paths.har, 'application/json');
      // A HAR too large to sign has no .sig (seal.ts logged it): ship the HAR alone, not never.
      const signed = await stat(paths.sig).then(() => true, () => false);
      if (signed) await put(keys.sig, paths.sig, 'application/jose');
    },
    close: () => void sdk?.then((s) => s.client.destroy(), () => undefined),
  };
}

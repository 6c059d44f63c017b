// Uploads one session's HAR and signature with @aws-sdk/client-s3. Credentials come from the
// SDK's default chain (environment, shared files, instance role), never from Airlock's config.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { Config } from '../config/schema.js';
import { sessionPaths } from '../recording/session-paths.js';

export type SinkConfig = NonNullable<Config['recording']['sink']>;
export type Upload = (id: string) => Promise<void>;

export function objectKeys(sink: SinkConfig, id: string): { har: string; sig: string } {
  return { har: `${sink.prefix}${id}.har`, sig: `${sink.prefix}${id}.har.sig` };
}

export function s3Upload(sink: SinkConfig, sessionsDir: string): { upload: Upload; close: () => void } {
  const client = new S3Client({
    region: sink.region,
    ...(sink.endpoint ? { endpoint: sink.endpoint } : {}),
    forcePathStyle: sink.forcePathStyle,
    // The outbox retries with its own backoff; one attempt per call keeps a stuck sink from
    // holding the worker.
    maxAttempts: 1,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: { connectionTimeout: 5_000, requestTimeout: 120_000 },
  });
  const put = async (key: string, file: string, contentType: string): Promise<void> => {
    const { size } = await stat(file);
    await client.send(new PutObjectCommand({ Bucket: sink.bucket, Key: key, Body: createReadStream(file), ContentLength: size, ContentType: contentType }));
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
    close: () => client.destroy(),
  };
}

// Uploads one session's HAR and signature with @aws-sdk/client-s3. Credentials come from the
// SDK's default chain (environment, shared files, instance role), never from Airlock's config.
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import type { S3Client } from '@aws-sdk/client-s3';
import type { JWK } from 'jose';
import type { SinkConfig } from '../config/schema.js';
import { readSummary, sessionPaths } from '../recording/journal/index.js';
import { indexKey, keyKey } from '../fleet/layout.js';
import { buildIndexRecord } from '../fleet/index-record.js';
import { applianceIdentity } from '../fleet/appliance-identity.js';
import { kidOfSignature } from '../recording/integrity/index.js';

export type Upload = (id: string) => Promise<void>;

function objectKeys(sink: SinkConfig, id: string): { har: string; sig: string } {
  return { har: `${sink.prefix}${id}.har`, sig: `${sink.prefix}${id}.har.sig` };
}

export interface UploadOptions {
  /** This appliance's public signing key, published once as keys/<kid>.jwk (fleet verification). */
  readonly publicJwk?: JWK | null;
}

/**
 * The SDK is loaded on first use: most CLI commands never ship, and it is a large import.
 * Per session: the public key (once per process), the HAR, its signature, then the index record
 * (fleet/layout.ts): a record in the index means its HAR is there to fetch.
 */
export function s3Upload(sink: SinkConfig, sessionsDir: string, opts: UploadOptions = {}): { upload: Upload; close: () => void } {
  const appliance = applianceIdentity();
  let published: string | null = null;
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
  const putText = async (key: string, text: string, contentType: string, metadata?: Record<string, string>): Promise<void> => {
    const { client, Put } = await ready();
    await client.send(new Put({ Bucket: sink.bucket, Key: key, Body: text, ContentType: contentType, ...(metadata ? { Metadata: metadata } : {}) }));
  };
  const publishKey = async (): Promise<void> => {
    const jwk = opts.publicJwk;
    if (!jwk?.kid || published === jwk.kid) return;
    const { kty, crv, x, kid, alg, use } = jwk;
    // The VM's identity rides in the object metadata: who published this key, from where.
    await putText(
      keyKey(sink, jwk.kid),
      `${JSON.stringify({ kty, crv, x, kid, alg, use })}\n`,
      'application/jwk+json',
      Object.fromEntries(Object.entries(appliance).map(([k, v]) => [`airlock-${k}`, v])),
    );
    published = jwk.kid;
  };
  return {
    async upload(id) {
      const paths = sessionPaths(sessionsDir, id);
      const keys = objectKeys(sink, id);
      await publishKey();
      // The HAR first: a signature without its HAR proves nothing, a HAR without one is flagged by verify.
      await put(keys.har, paths.har, 'application/json');
      // A HAR too large to sign has no .sig (seal.ts logged it): ship the HAR alone, not never.
      const signed = await stat(paths.sig).then(
        () => true,
        () => false,
      );
      if (signed) await put(keys.sig, paths.sig, 'application/jose');
      const summary = await readSummary(sessionsDir, id);
      if (summary) {
        const kid = signed ? kidOfSignature(await readFile(paths.sig, 'utf8')) : null;
        const record = await buildIndexRecord(summary, paths.har, kid, appliance);
        await putText(indexKey(sink, id, summary.openedAt), `${JSON.stringify(record)}\n`, 'application/json');
      }
    },
    close: () =>
      void sdk?.then(
        (s) => s.client.destroy(),
        () => undefined,
      ),
  };
}

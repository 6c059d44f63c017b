// The server's audit-trail parts, started together: the signing key (made at first start), the
// seal step the session store runs at every finalize, the session index compaction (at start,
// then whenever the index's unsorted tail has grown: see compact-index.ts), and the outbox worker that ships sealed sessions to recording.sink.
import { join } from 'node:path';
import type { Config } from '../config/schema.js';
import type { Logger } from '../log.js';
import { errCode } from '../lib/file-io.js';
import { compactIndex, compactIndexIfGrown } from '../recording/index/index.js';
import { loadOrCreateSigningKey, signingKeyPath } from '../recording/integrity/index.js';
import { OutboxWorker } from './outbox-worker.js';
import { s3Upload } from './s3-upload.js';
import { makeSeal } from './seal.js';

export interface AuditTrail {
  readonly seal: (id: string, harPath: string) => Promise<void>;
  /** Compacts the index and starts shipping; call after recovery. */
  start(): Promise<void>;
  /** Retry every pending upload now. */
  kick(): void;
  stop(): Promise<void>;
}

/** How often a running server looks at the index's tail (a stat and a 128-byte read). */
const COMPACT_CHECK_MS = 60_000;

export async function openAuditTrail(
  config: Config,
  deps: { readonly log: Logger; readonly now: () => number; readonly compactCheckMs?: number },
): Promise<AuditTrail> {
  const log = deps.log.child({ stage: 'audit' });
  const sessionsDir = join(config.stateDir, 'sessions');
  const { key, created } = await loadOrCreateSigningKey(config.stateDir);
  if (created)
    log.info({ file: signingKeyPath(config.stateDir), kid: key.kid }, 'created the HAR signing key: `airlock signing-key public` prints its public half');
  const sink = config.recording.sink;
  const s3 = sink ? s3Upload(sink, sessionsDir, { publicJwk: key.publicJwk }) : null;
  const worker = s3 ? new OutboxWorker({ stateDir: config.stateDir, sessionsDir, upload: s3.upload, log, now: deps.now }) : null;
  let compacting: Promise<unknown> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  const compactIfGrown = (): void => {
    compacting = compactIndexIfGrown(sessionsDir).then(
      (n) => {
        if (n !== null) log.info({ sessions: n }, 'session index compacted: its tail had grown');
      },
      (err: unknown) => log.warn({ code: errCode(err) }, 'could not compact the session index; `sessions ls` reads it whole until the next try'),
    );
  };
  return {
    seal: makeSeal({ stateDir: config.stateDir, sessionsDir, key, ship: sink !== null, log, now: deps.now, queued: () => worker?.kick() }),
    async start() {
      try {
        const n = await compactIndex(sessionsDir);
        log.debug({ sessions: n }, 'session index compacted');
      } catch (err) {
        // `sessions ls` falls back to the sidecars; serving goes on.
        log.warn({ code: errCode(err) }, 'could not compact the session index');
      }
      worker?.start();
      timer = setInterval(compactIfGrown, deps.compactCheckMs ?? COMPACT_CHECK_MS);
      timer.unref();
    },
    kick: () => worker?.kick(),
    async stop() {
      clearInterval(timer);
      await compacting;
      await worker?.stop();
      s3?.close();
    },
  };
}

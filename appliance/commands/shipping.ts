// `airlock sessions flush` and `airlock sessions prune`.
import { loadSigningKey } from '../recording/integrity/index.js';
import { join } from 'node:path';
import ms from 'ms';
import { callControl } from '../control/control-client.js';
import { createLogger } from '../log.js';
import { OutboxWorker } from '../shipping/outbox-worker.js';
import { pendingIds, readItem } from '../shipping/outbox.js';
import { pruneSessions } from '../shipping/prune-sessions.js';
import { s3Upload } from '../shipping/s3-upload.js';
import { CliError, controlSocket, load, sessionsDir, type CommonArgs } from './context.js';

function duration(text: string, flag: string): number {
  const v = ms(text as ms.StringValue);
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0)
    throw new CliError('BAD_DURATION', `${flag} wants a duration such as 60s or 30d, got ${JSON.stringify(text)}`, 2);
  return v;
}

const sleep = (msec: number): Promise<void> => new Promise((r) => setTimeout(r, msec));

/**
 * Waits until the outbox is empty. With a server running, it asks the server to retry at once
 * and watches; without one (the job-completed hook after shutdown), it uploads itself.
 */
export async function sessionsFlushCommand(args: CommonArgs & { timeout?: string }): Promise<string> {
  const { config } = load(args);
  const deadline = Date.now() + duration(args.timeout ?? '60s', '--timeout');
  const stateDir = config.stateDir;
  if ((await pendingIds(stateDir)).length === 0) return 'outbox empty';
  const reply = await callControl(controlSocket(config), 'POST', '/v1/outbox/flush', 5_000).catch(() => null);
  if (reply?.status === 202 && reply.body['kicked'] === true) {
    while (Date.now() < deadline && (await pendingIds(stateDir)).length > 0) await sleep(250);
  } else {
    const sink = config.recording.sink;
    if (!sink) throw new CliError('NO_SINK', `the outbox holds sessions but recording.sink is not configured: nothing can ship them`);
    const publicJwk = await loadSigningKey(stateDir).then(
      (k) => k.publicJwk,
      () => null,
    );
    const s3 = s3Upload(sink, sessionsDir(stateDir), { publicJwk });
    const worker = new OutboxWorker({
      stateDir,
      sessionsDir: sessionsDir(stateDir),
      upload: s3.upload,
      log: createLogger({ destination: process.stderr, level: 'warn' }),
    });
    try {
      // Not p-retry: this polls up to a deadline and tries once more at the deadline itself, where
      // p-retry's maxRetryTime gives up as soon as the next delay would overrun it.
      for (let pause = 500; Date.now() < deadline; pause = Math.min(pause * 2, 5_000)) {
        worker.kick();
        if ((await worker.tick()) === 0) break;
        await sleep(Math.min(pause, Math.max(0, deadline - Date.now())));
      }
    } finally {
      await worker.stop();
      s3.close();
    }
  }
  const left = await pendingIds(stateDir);
  if (left.length === 0) return 'outbox empty: every session shipped';
  const why = await Promise.all(left.slice(0, 10).map(async (id) => `  ${id}: ${(await readItem(stateDir, id))?.lastError ?? 'not tried yet'}`));
  throw new CliError('FLUSH_INCOMPLETE', `${left.length} session(s) still in ${join(stateDir, 'outbox')}:\n${why.join('\n')}`);
}

export async function sessionsPruneCommand(args: CommonArgs & { 'older-than'?: string; 'dry-run'?: boolean; json?: boolean }): Promise<string> {
  const { config } = load(args);
  const retainMs = args['older-than'] !== undefined ? duration(args['older-than'], '--older-than') : config.recording.retain;
  if (retainMs === null) throw new CliError('NO_RETENTION', 'set recording.retain in the config (e.g. 30d) or pass --older-than', 2);
  const r = await pruneSessions({
    stateDir: config.stateDir,
    sessionsDir: sessionsDir(config.stateDir),
    retainMs,
    sinkConfigured: config.recording.sink !== null,
    now: Date.now(),
    dryRun: args['dry-run'] === true,
  });
  if (args.json) return JSON.stringify(r, null, 2);
  const verb = args['dry-run'] ? 'would remove' : 'removed';
  return [
    `${verb} ${r.removed.length} session(s)`,
    ...r.removed.map((id) => `  ${id}`),
    ...(r.kept.length > 0 ? [`kept ${r.kept.length} old session(s):`, ...r.kept.map((k) => `  ${k.id}: ${k.reason}`)] : []),
  ].join('\n');
}

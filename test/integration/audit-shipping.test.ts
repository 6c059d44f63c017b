// Shipping sessions off an ephemeral runner: a real S3-protocol server (s3rver) on loopback,
// a real `airlock serve` with recording.sink, and the outbox surviving an outage and a restart.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, existsSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { startAirlock, curlVia, type Airlock } from '../fixtures/airlock-process.js';

// s3rver's fixed credentials, through the AWS SDK's usual environment chain (the airlock child inherits them).
process.env['AWS_ACCESS_KEY_ID'] = 'S3RVER';
process.env['AWS_SECRET_ACCESS_KEY'] = 'S3RVER';

const BUCKET = 'airlock-audit';
const PREFIX = 'runners/r1/';
const s3dir = mkdtempSync(join(tmpdir(), 'airlock-s3-'));
let s3: S3rver | null = null;
let s3port = 0;
let a: Airlock;
let client: S3Client;

async function startS3(port: number): Promise<number> {
  s3 = new S3rver({ port, address: '127.0.0.1', directory: s3dir, silent: true, configureBuckets: [{ name: BUCKET, configs: [] }] });
  const addr = await s3.run();
  return addr.port;
}
async function stopS3(): Promise<void> {
  await s3?.close();
  s3 = null;
}

async function session(runId: string, close: boolean): Promise<string> {
  const token = await a.issuer.mint({ run_id: runId, run_attempt: '1' });
  const r = await curlVia(a, token, 'https://api.datadoghq.com/api/v1/validate', ['--fail']);
  assert.equal(r.code, 0, r.stderr);
  const ls = await a.cli(['sessions', 'ls', '--json', '--claim', `run_id=${runId}`]);
  const id = (JSON.parse(ls.stdout) as { id: string }[])[0]!.id;
  if (close) assert.equal((await a.cli(['sessions', 'close', id])).code, 0);
  return id;
}

async function object(key: string): Promise<Buffer> {
  const r = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return Buffer.from(await r.Body!.transformToByteArray());
}

function local(id: string, ext: string): Buffer {
  return readFileSync(join(a.stateDir, 'sessions', `${id}${ext}`));
}

function outbox(): string[] {
  const dir = join(a.stateDir, 'outbox');
  return existsSync(dir) ? readdirSync(dir).filter((n) => n.endsWith('.json')) : [];
}

before(async () => {
  s3port = await startS3(0);
  client = new S3Client({ region: 'us-east-1', endpoint: `http://127.0.0.1:${s3port}`, forcePathStyle: true, maxAttempts: 1 });
  a = await startAirlock({
    config: {
      recording: {
        maxBodyBytes: 1_048_576,
        retain: '30d',
        sink: { type: 's3', bucket: BUCKET, prefix: PREFIX, endpoint: `http://127.0.0.1:${s3port}`, region: 'us-east-1', forcePathStyle: true },
      },
    },
  });
});
after(async () => {
  client?.destroy();
  await a?.cleanup();
  await stopS3();
  rmSync(s3dir, { recursive: true, force: true });
});

const shipped: string[] = [];

test('a closed session is uploaded with its signature, byte-identical to the local files, and flush returns 0', async () => {
  const id = await session('1', true);
  const f = await a.cli(['sessions', 'flush', '--timeout', '20s']);
  assert.equal(f.code, 0, f.stderr);
  assert.deepEqual(await object(`${PREFIX}${id}.har`), local(id, '.har'));
  assert.deepEqual(await object(`${PREFIX}${id}.har.sig`), local(id, '.har.sig'));
  assert.deepEqual(outbox(), []);
  const ls = JSON.parse((await a.cli(['sessions', 'ls', '--json', '--claim', 'run_id=1'])).stdout) as { shippedAt?: string }[];
  assert.ok(ls[0]?.shippedAt, 'the session is marked shipped');
  shipped.push(id);
});

test('with the sink down, flush exits 1 and the outbox keeps the session across an airlock restart; once the sink is back it ships', async () => {
  await stopS3();
  const id = await session('2', true);
  const f = await a.cli(['sessions', 'flush', '--timeout', '2s']);
  assert.equal(f.code, 1, 'flush cannot empty the outbox while the sink is down');
  assert.match(f.stderr, /FLUSH_INCOMPLETE/);
  assert.deepEqual(outbox(), [`${id}.json`]);
  // The proxy keeps serving while uploads fail.
  const open = await session('3', false);
  assert.equal(await a.stop(), 0);
  await a.start();
  assert.deepEqual(outbox(), [`${id}.json`, `${open}.json`].sort(), 'the pending upload survived the restart (and shutdown queued the open session)');
  await startS3(s3port);
  const g = await a.cli(['sessions', 'flush', '--timeout', '30s']);
  assert.equal(g.code, 0, g.stderr);
  assert.deepEqual(await object(`${PREFIX}${id}.har`), local(id, '.har'));
  assert.deepEqual(await object(`${PREFIX}${id}.har.sig`), local(id, '.har.sig'));
  assert.deepEqual(await object(`${PREFIX}${open}.har`), local(open, '.har'));
  shipped.push(id, open);
});

test('flush with no server running uploads the outbox itself (the job-completed hook after shutdown)', async () => {
  await stopS3();
  const id = await session('4', true);
  assert.equal(await a.stop(), 0);
  await startS3(s3port);
  const f = await a.cli(['sessions', 'flush', '--timeout', '30s']);
  assert.equal(f.code, 0, f.stderr);
  assert.deepEqual(outbox(), []);
  assert.deepEqual(await object(`${PREFIX}${id}.har`), local(id, '.har'));
  shipped.push(id);
  await a.start();
});

test('prune removes old shipped sessions only: never an open one, never one still in the outbox', async () => {
  const open = await session('5', false);
  await stopS3();
  const pending = await session('6', true);
  await new Promise((r) => setTimeout(r, 20));
  const dry = await a.cli(['sessions', 'prune', '--older-than', '10ms', '--dry-run', '--json']);
  assert.equal(dry.code, 0, dry.stderr);
  const r = await a.cli(['sessions', 'prune', '--older-than', '10ms', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { removed: string[]; kept: { id: string; reason: string }[] };
  assert.deepEqual((JSON.parse(dry.stdout) as { removed: unknown }).removed, out.removed, 'a dry run names the same sessions');
  for (const id of shipped) assert.ok(out.removed.includes(id), `shipped ${id} is pruned`);
  assert.ok(!out.removed.includes(open) && !out.removed.includes(pending));
  assert.ok(out.kept.some((k) => k.id === pending && /not yet shipped/.test(k.reason)));
  for (const id of shipped) assert.ok(!existsSync(join(a.stateDir, 'sessions', `${id}.har`)) && !existsSync(join(a.stateDir, 'sessions', `${id}.har.sig`)));
  assert.ok(existsSync(join(a.stateDir, 'sessions', `${pending}.har`)));
  assert.ok(existsSync(join(a.stateDir, 'sessions', `${open}.jsonl`)));
  const ls = JSON.parse((await a.cli(['sessions', 'ls', '--json'])).stdout) as { id: string }[];
  assert.ok(!ls.some((s) => shipped.includes(s.id)), 'pruned sessions are gone from the index');
  const no = await a.cli(['sessions', 'prune'], {});
  assert.equal(no.code, 0, 'recording.retain (30d) applies without --older-than');
});

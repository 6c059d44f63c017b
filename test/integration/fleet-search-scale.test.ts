// Fleet search at fleet scale: 10,000 sessions' index records over 30 days in s3rver, queried by
// the real CLI (`airlock fleet ls`) the way an operator would. A one-day query returns exactly
// that day's matches, newest first; its time is printed (the figure in docs/operations.md comes from
// `npm run bench:fleet`; tests assert no timings).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';
import { S3Client } from '@aws-sdk/client-s3';
import { stringify } from 'yaml';
import { runCli } from '../fixtures/airlock-process.js';
import { seedFleetIndex, type Seeded } from '../fixtures/fleet-seed.js';

process.env['AWS_ACCESS_KEY_ID'] = 'S3RVER';
process.env['AWS_SECRET_ACCESS_KEY'] = 'S3RVER';

const BUCKET = 'fleet-scale';
const PREFIX = 'audit/';
const DAY_MS = 86_400_000;
const work = mkdtempSync(join(tmpdir(), 'airlock-fleet-scale-'));
const cfg = join(work, 'airlock.yaml');
const endDay = Math.floor(Date.now() / DAY_MS) * DAY_MS;
let s3: S3rver;
let client: S3Client;
let seeded: Seeded;

before(async () => {
  s3 = new S3rver({ port: 0, address: '127.0.0.1', directory: join(work, 's3'), silent: true, configureBuckets: [{ name: BUCKET, configs: [] }] });
  const { port } = await s3.run();
  const endpoint = `http://127.0.0.1:${port}`;
  client = new S3Client({ region: 'us-east-1', endpoint, forcePathStyle: true, maxAttempts: 3 });
  const t = Date.now();
  seeded = await seedFleetIndex(client, BUCKET, PREFIX, { count: 10_000, days: 30, endDay });
  console.log(`# seeded 10,000 index records over 30 days in ${Date.now() - t} ms`);
  writeFileSync(
    cfg,
    stringify({
      stateDir: join(work, 'state'),
      recording: { sink: { type: 's3', bucket: BUCKET, prefix: PREFIX, endpoint, region: 'us-east-1', forcePathStyle: true } },
    }),
  );
});

after(async () => {
  client?.destroy();
  await s3?.close();
  rmSync(work, { recursive: true, force: true });
});

test("a one-day filtered fleet ls over 10,000 sessions returns exactly that day's matches, newest first", async () => {
  const day = endDay - 10 * DAY_MS;
  const dayKey = new Date(day).toISOString().slice(0, 10);
  const expected = seeded.perDay.get(dayKey)!;
  assert.ok(expected.deployBot > 0);
  const t = performance.now();
  const r = await runCli([
    'fleet',
    'ls',
    '--json',
    '--grant',
    'deploy-bot',
    '--since',
    new Date(day).toISOString(),
    '--until',
    new Date(day + DAY_MS - 1).toISOString(),
    '--config',
    cfg,
  ]);
  const ms = Math.round(performance.now() - t);
  console.log(`# fleet ls, one day (${expected.total} records read), --grant filter: ${expected.deployBot} matches in ${ms} ms`);
  assert.equal(r.code, 0, r.stderr);
  const rows = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { id: string; grant: string; openedAt: string });
  assert.equal(rows.length, expected.deployBot);
  assert.ok(rows.every((x) => x.grant === 'deploy-bot' && x.openedAt.startsWith(dayKey)));
  assert.deepEqual(
    rows.map((x) => x.id),
    [...rows.map((x) => x.id)].sort().reverse(),
    'newest first',
  );
});

test('a claim filter over all 30 days finds the one session, and --limit stops the stream early', async () => {
  const r = await runCli(['fleet', 'ls', '--json', '--claim', 'run_id=104321', '--since', '40d', '--config', cfg]);
  assert.equal(r.code, 0, r.stderr);
  const rows = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { claims: { run_id: string } });
  assert.deepEqual(
    rows.map((x) => x.claims.run_id),
    ['104321'],
  );
  const lim = await runCli(['fleet', 'ls', '--json', '--limit', '5', '--config', cfg]);
  assert.equal(lim.code, 0, lim.stderr);
  assert.equal(lim.stdout.trim().split('\n').length, 5);
});

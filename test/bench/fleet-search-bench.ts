// `npm run bench:fleet`: fleet search over 10,000 sessions' index records spread over 30 days in
// s3rver on loopback. Times the real CLI (`airlock fleet ls`, process start included) for a
// one-day filtered query, five runs, and prints the median; exits 1 over the 2 s bound.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';
import { S3Client } from '@aws-sdk/client-s3';
import { stringify } from 'yaml';
import { runCli } from '../fixtures/airlock-process.js';
import { seedFleetIndex } from '../fixtures/fleet-seed.js';

process.env['AWS_ACCESS_KEY_ID'] = 'S3RVER';
process.env['AWS_SECRET_ACCESS_KEY'] = 'S3RVER';
process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] = 'true';

const DAY_MS = 86_400_000;
const BOUND_MS = 2_000;
const work = mkdtempSync(join(tmpdir(), 'airlock-fleet-bench-'));
const s3 = new S3rver({ port: 0, address: '127.0.0.1', directory: join(work, 's3'), silent: true, configureBuckets: [{ name: 'fleet', configs: [] }] });
try {
  const { port } = await s3.run();
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new S3Client({ region: 'us-east-1', endpoint, forcePathStyle: true, maxAttempts: 3 });
  const endDay = Math.floor(Date.now() / DAY_MS) * DAY_MS;
  const t0 = Date.now();
  const seeded = await seedFleetIndex(client, 'fleet', 'audit/', { count: 10_000, days: 30, endDay });
  console.log(`seeded 10,000 index records over 30 days in ${Date.now() - t0} ms`);
  client.destroy();
  const cfg = join(work, 'airlock.yaml');
  writeFileSync(
    cfg,
    stringify({
      stateDir: join(work, 'state'),
      recording: { sink: { type: 's3', bucket: 'fleet', prefix: 'audit/', endpoint, region: 'us-east-1', forcePathStyle: true } },
    }),
  );
  const day = endDay - 10 * DAY_MS;
  const expected = seeded.perDay.get(new Date(day).toISOString().slice(0, 10))!;
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
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
    times.push(performance.now() - t);
    const n = r.stdout.trim().split('\n').filter(Boolean).length;
    if (r.code !== 0 || n !== expected.deployBot) throw new Error(`fleet ls failed or miscounted (${n} of ${expected.deployBot}): ${r.stderr}`);
  }
  times.sort((a, b) => a - b);
  const median = Math.round(times[2]!);
  console.log(
    `fleet ls, one day of ${expected.total} records, --grant filter (${expected.deployBot} matches): median ${median} ms (runs: ${times.map((x) => Math.round(x)).join(', ')} ms)`,
  );
  if (median > BOUND_MS) process.exitCode = 1;
} finally {
  await s3.close();
  rmSync(work, { recursive: true, force: true });
}

// One audit trail across the fleet: a real `airlock serve` ships to a real S3-protocol server
// (s3rver) on loopback; another "machine" (a config holding only recording.sink, no state, no
// signing key) lists, greps, exports and verifies those sessions from the sink alone, and a HAR
// signed by a key outside the trusted set fails with a clear message.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { stringify } from 'yaml';
import { startAirlock, curlVia, runCli, type Airlock } from '../fixtures/airlock-process.js';
import { kidOfSignature, loadOrCreateSigningKey, signHar } from '../../appliance/recording/integrity/index.js';

process.env['AWS_ACCESS_KEY_ID'] = 'S3RVER';
process.env['AWS_SECRET_ACCESS_KEY'] = 'S3RVER';

const BUCKET = 'fleet-audit';
const PREFIX = 'fleet/';
const work = mkdtempSync(join(tmpdir(), 'airlock-fleet-'));
let s3: S3rver;
let client: S3Client;
let a: Airlock;
let elsewhere: string;
const ids: string[] = [];

async function object(key: string): Promise<Buffer> {
  const r = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return Buffer.from(await r.Body!.transformToByteArray());
}

/** The CLI on the other machine: only the sink is configured. */
function remote(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return runCli([...args, '--config', elsewhere]);
}

before(async () => {
  s3 = new S3rver({ port: 0, address: '127.0.0.1', directory: join(work, 's3'), silent: true, configureBuckets: [{ name: BUCKET, configs: [] }] });
  const { port } = await s3.run();
  const sink = { type: 's3', bucket: BUCKET, prefix: PREFIX, endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', forcePathStyle: true };
  client = new S3Client({ region: 'us-east-1', endpoint: sink.endpoint, forcePathStyle: true, maxAttempts: 1 });
  a = await startAirlock({ config: { recording: { maxBodyBytes: 1_048_576, sink } } });
  mkdirSync(join(work, 'other'), { mode: 0o700 });
  elsewhere = join(work, 'other', 'airlock.yaml');
  writeFileSync(elsewhere, stringify({ stateDir: join(work, 'other', 'state'), recording: { sink } }));
  for (const runId of ['fleet-1', 'fleet-2']) {
    const token = await a.issuer.mint({ run_id: runId, run_attempt: '1' });
    const r = await curlVia(a, token, 'https://api.datadoghq.com/api/v1/validate', ['--fail']);
    assert.equal(r.code, 0, r.stderr);
    const id = (JSON.parse((await a.cli(['sessions', 'ls', '--json', '--claim', `run_id=${runId}`])).stdout) as { id: string }[])[0]!.id;
    assert.equal((await a.cli(['sessions', 'close', id])).code, 0);
    ids.push(id);
  }
  const f = await a.cli(['sessions', 'flush', '--timeout', '30s']);
  assert.equal(f.code, 0, f.stderr);
});

after(async () => {
  client?.destroy();
  await a?.cleanup();
  await s3?.close();
  rmSync(work, { recursive: true, force: true });
});

test('the appliance publishes keys/<kid>.jwk with its identity in the metadata, the .sig names that kid, and an index record sits under the session day', async () => {
  const pub = JSON.parse((await a.cli(['signing-key', 'public'])).stdout) as { kid: string; x: string; d?: string };
  const id = ids[0]!;
  assert.equal(kidOfSignature((await object(`${PREFIX}${id}.har.sig`)).toString('utf8')), pub.kid);
  const key = JSON.parse((await object(`${PREFIX}keys/${pub.kid}.jwk`)).toString('utf8')) as { kid: string; x: string; d?: string };
  assert.deepEqual([key.kid, key.x, key.d], [pub.kid, pub.x, undefined]);
  const head = await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: `${PREFIX}keys/${pub.kid}.jwk` }));
  assert.ok(head.Metadata?.['airlock-host'], 'the VM identity is in the object metadata');
  const day = `${id.slice(0, 4)}/${id.slice(4, 6)}/${id.slice(6, 8)}`;
  const rec = JSON.parse((await object(`${PREFIX}index/${day}/${id}.json`)).toString('utf8')) as Record<string, unknown>;
  assert.equal(rec['id'], id);
  assert.equal(rec['grant'], 'dashboards-bot');
  assert.equal((rec['claims'] as Record<string, unknown>)['run_id'], 'fleet-1');
  assert.deepEqual(rec['decisions'], { forwarded: 1 });
  assert.deepEqual(rec['statuses'], { '2xx': 1 });
  assert.equal(rec['kid'], pub.kid);
  assert.equal(rec['entryCount'], 1);
  assert.ok(!JSON.stringify(rec).includes(a.apiKey), 'no key in the index');
});

test('on another machine, using only the sink: fleet ls and grep find the sessions, fleet verify says OK, and sessions verify --sink accepts an export', async () => {
  const ls = await remote(['fleet', 'ls', '--json', '--since', '1d']);
  assert.equal(ls.code, 0, ls.stderr);
  const listed = ls.stdout
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as { id: string }).id);
  assert.deepEqual(listed, [...ids].reverse(), 'newest first');
  const one = await remote(['fleet', 'ls', '--json', '--claim', 'run_id=fleet-2']);
  assert.deepEqual(
    one.stdout
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { id: string }).id),
    [ids[1]],
  );
  const table = await remote(['fleet', 'ls']);
  assert.match(table.stdout, /^ID\s+OPENED/);
  const grep = await remote(['fleet', 'grep', '--path', '/api/v1/validate', '--json']);
  assert.equal(grep.code, 0, grep.stderr);
  assert.equal(grep.stdout.trim().split('\n').length, 2);
  assert.equal((await remote(['fleet', 'grep', '--path', '/api/v2/nothing'])).code, 1);
  const v = await remote(['fleet', 'verify', ids[0]!]);
  assert.equal(v.code, 0, v.stdout + v.stderr);
  assert.match(v.stdout, /verdict:\s+OK/);
  const file = join(work, 'other', 'exported.har');
  assert.equal((await remote(['fleet', 'export', ids[0]!, '-o', file])).code, 0);
  writeFileSync(`${file}.sig`, await object(`${PREFIX}${ids[0]!}.har.sig`));
  assert.deepEqual(readFileSync(file), await object(`${PREFIX}${ids[0]!}.har`));
  const sv = await remote(['sessions', 'verify', file, '--sink']);
  assert.equal(sv.code, 0, sv.stdout + sv.stderr);
  assert.match(sv.stdout, /verdict:\s+OK/);
});

test('--keys DIR trusts only the keys in DIR: without the appliance key the verdict names the kid and KEY_UNTRUSTED; with it, OK', async () => {
  const keys = join(work, 'trusted');
  mkdirSync(keys);
  const r = await remote(['fleet', 'verify', ids[0]!, '--keys', keys]);
  assert.equal(r.code, 1);
  const pub = JSON.parse((await a.cli(['signing-key', 'public'])).stdout) as { kid: string };
  assert.match(r.stdout, new RegExp(`signed by key ${pub.kid}, which is not in the trusted set \\(the key directory ${keys}\\): KEY_UNTRUSTED`));
  writeFileSync(join(keys, `${pub.kid}.jwk`), (await a.cli(['signing-key', 'public'])).stdout);
  const ok = await remote(['fleet', 'verify', ids[0]!, '--keys', keys]);
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  // A key file under another key's name is refused, not trusted.
  const other = await loadOrCreateSigningKey(join(work, 'impostor-a'));
  writeFileSync(join(keys, `${pub.kid}.jwk`), JSON.stringify(other.key.publicJwk));
  const bad = await remote(['fleet', 'verify', ids[0]!, '--keys', keys]);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /PUBLIC_KEY_INVALID: .* holds key .*, not /);
});

test('a HAR re-signed by a key that is not in the sink fails fleet verify with a clear message', async () => {
  const id = ids[1]!;
  const har = await object(`${PREFIX}${id}.har`);
  const rogue = await loadOrCreateSigningKey(join(work, 'rogue'));
  await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${PREFIX}${id}.har.sig`, Body: `${await signHar(har, rogue.key)}\n` }));
  const r = await remote(['fleet', 'verify', id]);
  assert.equal(r.code, 1);
  assert.match(r.stdout, new RegExp(`signature: INVALID: signed by key ${rogue.key.kid}, which is not in the trusted set \\(the sink's keys/`));
  assert.match(r.stdout, /verdict:\s+FAILED/);
  const keys = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `${PREFIX}keys/` }));
  assert.equal(keys.Contents?.length, 1, 'only the appliance published a key');
});

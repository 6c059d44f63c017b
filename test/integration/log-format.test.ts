// `--log-format pretty`: readable lines for a person at a terminal, redacted like the JSON ones;
// JSON stays the default for log shippers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { stringify } from 'yaml';
import { createLogger } from '../../appliance/log.js';
import { CLI } from '../fixtures/airlock-process.js';

test('a pretty logger writes readable lines with the level and message, and still redacts a token field', async () => {
  const out = new PassThrough();
  let text = '';
  out.on('data', (d: Buffer) => (text += d.toString('utf8')));
  const log = createLogger({ format: 'pretty', destination: out });
  log.info({ token: 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln', grant: 'ci' }, 'request');
  await new Promise((r) => setImmediate(r));
  assert.match(text, /INFO.*request/);
  assert.match(text, /grant: "ci"/);
  assert.match(text, /\[redacted\]/);
  assert.ok(!text.includes('eyJhbGciOiJSUzI1NiJ9'), 'the token is not printed');
  assert.ok(!text.trimStart().startsWith('{'), 'not JSON');
});

async function serveFirstLines(extra: string[]): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-logfmt-'));
  const cfg = join(dir, 'airlock.yaml');
  writeFileSync(cfg, stringify({ listen: '127.0.0.1:0', stateDir: join(dir, 'state'), admin: { listen: null } }));
  const p = spawn(process.execPath, [CLI, 'serve', '--config', cfg, ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
  let buf = '';
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no listening line:\n${buf}`)), 30_000);
      p.stdout.on('data', (d: Buffer) => {
        buf += d.toString('utf8');
        if (buf.includes('airlock listening on')) {
          clearTimeout(timer);
          resolve();
        }
      });
      p.once('exit', (code) => reject(new Error(`exited ${code}:\n${buf}`)));
    });
  } finally {
    const gone = new Promise((r) => p.once('exit', r));
    p.kill('SIGTERM');
    await gone;
    rmSync(dir, { recursive: true, force: true });
  }
  return buf.split('\n').filter(Boolean);
}

test('airlock serve logs pino JSON by default and readable lines with --log-format pretty', async () => {
  const json = await serveFirstLines([]);
  assert.ok(
    json.every((l) => l.startsWith('{')),
    json.join('\n'),
  );
  const pretty = await serveFirstLines(['--log-format', 'pretty']);
  const listening = pretty.find((l) => l.includes('airlock listening on'))!;
  assert.match(listening, /INFO.*airlock listening on 127\.0\.0\.1:\d+/);
  assert.ok(!listening.startsWith('{'));
});

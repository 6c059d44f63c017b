// The airlock-process fixture leaves no `airlock serve` behind: not when a start fails (CI then
// runs on with a stray server), not when the test file is stopped at its timeout (test/run.mjs's
// runner sends it SIGTERM).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startAirlock } from '../fixtures/airlock-process.js';
import { waitFor } from '../fixtures/wait-for.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/airlock-process.js', import.meta.url));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('a start that never logs that it listens is cut at its timeout, and the process it spawned is killed', async () => {
  let message = '';
  await assert.rejects(
    startAirlock({
      startTimeoutMs: 1_500,
      // A "server" that runs and never listens: the fixture's start has to give up on it. Its pid
      // is its first stdout line, which the fixture quotes in its error.
      wrapServe: () => [process.execPath, '-e', 'process.stdout.write(process.pid + "\\n"); setInterval(() => {}, 1000);'],
    }),
    (err: Error) => {
      message = err.message;
      return /airlock did not start/.test(err.message);
    },
  );
  const pid = Number(/^(\d+)$/m.exec(message)?.[1]);
  assert.ok(pid > 0, message);
  assert.equal(alive(pid), false, 'the process that never listened is gone');
});

test('a test process stopped with SIGTERM (the runner at a file timeout) takes its airlock serve with it', async () => {
  const script = `import { startAirlock } from ${JSON.stringify(FIXTURE)};
const a = await startAirlock();
process.stdout.write(JSON.stringify({ pid: a.child.pid }) + '\\n');
setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
  const serve = await waitFor(
    'the serve pid',
    () => (out.includes('\n') ? (JSON.parse(out.slice(0, out.indexOf('\n'))) as { pid: number }).pid : undefined),
    60_000,
  );
  assert.ok(alive(serve), 'airlock serve runs');
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  child.kill('SIGTERM');
  assert.equal(await exited, 143);
  await waitFor('airlock serve gone', () => (alive(serve) ? undefined : true), 10_000);
});

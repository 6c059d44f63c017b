// The default log (stdout, batched per event-loop turn): every line comes out, in order, also
// the ones logged just before process.exit and the ones of a process that crashes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const LOG = fileURLToPath(new URL('../../../appliance/log.js', import.meta.url));

function run(body: string): { lines: Record<string, unknown>[]; status: number | null } {
  const script = `import { createLogger } from ${JSON.stringify(LOG)};\nconst log = createLogger();\n${body}`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
  return { lines: r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>), status: r.status };
}

test('lines of one turn and of later turns all come out, in order', () => {
  const { lines } = run(`for (let i = 0; i < 500; i++) log.info({ i }, 'a');
setTimeout(() => { for (let i = 500; i < 1000; i++) log.info({ i }, 'b'); }, 20);`);
  assert.deepEqual(lines.map((l) => l['i']), Array.from({ length: 1000 }, (_, i) => i));
});

test('the lines logged right before process.exit are written', () => {
  const { lines, status } = run(`log.info({ i: 0 }, 'first');
setTimeout(() => { log.info({ i: 1 }, 'stopping'); log.info({ i: 2 }, 'stopped'); process.exit(3); }, 20);`);
  assert.equal(status, 3);
  assert.deepEqual(lines.map((l) => l['msg']), ['first', 'stopping', 'stopped']);
});

test('the lines logged before an uncaught exception are written', () => {
  const { lines, status } = run(`log.info('before'); log.error('about to fail'); throw new Error('boom');`);
  assert.notEqual(status, 0);
  assert.deepEqual(lines.map((l) => l['msg']), ['before', 'about to fail']);
});

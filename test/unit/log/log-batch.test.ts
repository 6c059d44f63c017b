// The default log (stdout, batched under load): every line comes out, in order, also the ones
// logged just before process.exit and the ones of a quiet process that crashes (log-batch.ts says
// why a crash under load, with a batch still in the thread pool, keeps the lines but not their order).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const LOG = fileURLToPath(new URL('../../../appliance/log.js', import.meta.url));

function run(body: string): { lines: Record<string, unknown>[]; status: number | null } {
  const script = `import { createLogger } from ${JSON.stringify(LOG)};\nconst log = createLogger();\n${body}`;
  // stdout is a file, as under systemd with StandardOutput=file: the child can see what is out.
  const dir = mkdtempSync(join(tmpdir(), 'airlock-log-'));
  try {
    const out = openSync(join(dir, 'out'), 'w');
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', out, 'pipe'], timeout: 20_000 });
    closeSync(out);
    const text = readFileSync(join(dir, 'out'), 'utf8');
    return {
      lines: text
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
      status: r.status,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('lines of one turn and of later turns all come out, in order', () => {
  const { lines } = run(`for (let i = 0; i < 500; i++) log.info({ i }, 'a');
setTimeout(() => { for (let i = 500; i < 1000; i++) log.info({ i }, 'b'); }, 20);`);
  assert.deepEqual(
    lines.map((l) => l['i']),
    Array.from({ length: 1000 }, (_, i) => i),
  );
});

test('the lines logged right before process.exit are written', () => {
  const { lines, status } = run(`log.info({ i: 0 }, 'first');
setTimeout(() => { log.info({ i: 1 }, 'stopping'); log.info({ i: 2 }, 'stopped'); process.exit(3); }, 20);`);
  assert.equal(status, 3);
  assert.deepEqual(
    lines.map((l) => l['msg']),
    ['first', 'stopping', 'stopped'],
  );
});

test('the lines logged before an uncaught exception are written', () => {
  const { lines, status } = run(`log.info('before'); log.error('about to fail'); throw new Error('boom');`);
  assert.notEqual(status, 0);
  assert.deepEqual(
    lines.map((l) => l['msg']),
    ['before', 'about to fail'],
  );
});

test('a lone line is written while the process runs, not held for more lines or until exit', () => {
  // The child looks at the size of its own stdout file 100 ms after the first line.
  const { lines } = run(`import { fstatSync } from 'node:fs';
const size = () => fstatSync(1).size;
const sizes = [];
log.info({ i: 0 }, 'first');
setTimeout(() => { sizes.push(size()); log.info({ i: 1, sizes }, 'second'); }, 100);`);
  assert.equal(lines.length, 2);
  const sizes = lines[1]!['sizes'] as number[];
  assert.ok(sizes[0]! > 0, 'the first line was out 100 ms later, with no second line and no exit');
});

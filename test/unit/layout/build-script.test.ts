// `npm run build` starts from an empty dist: tsc never deletes what it emitted for a source that
// was moved or deleted, and test/run.mjs runs every *.test.js under dist/test, stale ones too.
// The clean step is run here for real, in a scratch directory (never on this checkout's dist,
// which the running suite reads).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../../../..');
const build = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts['build'] ?? '';
const steps = build.split(' && ');

test('the build removes dist first, then compiles', () => {
  assert.ok(steps.length >= 2, build);
  assert.match(steps[0]!, /rmSync\('dist'/, 'the first step removes dist');
  assert.match(steps[1]!, /^tsc -p tsconfig\.json/, 'then tsc');
});

test("the build's first step empties dist of stale compiled tests (and its incremental state) and leaves the rest alone", () => {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-build-clean-'));
  try {
    mkdirSync(join(dir, 'dist', 'test', 'unit', 'moved'), { recursive: true });
    writeFileSync(join(dir, 'dist', 'test', 'unit', 'moved', 'old.test.js'), '');
    writeFileSync(join(dir, 'dist', '.tsbuildinfo'), '{}');
    writeFileSync(join(dir, 'keep.ts'), '');
    const r = spawnSync('sh', ['-c', steps[0]!], { cwd: dir, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(existsSync(join(dir, 'dist')), false, 'dist is gone');
    assert.equal(existsSync(join(dir, 'keep.ts')), true, 'nothing outside dist is touched');
    // Run again with no dist: a fresh checkout builds too.
    assert.equal(spawnSync('sh', ['-c', steps[0]!], { cwd: dir }).status, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

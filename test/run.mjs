#!/usr/bin/env node
// Runs every compiled test file under dist/test/{unit,integration,adversarial} with node's test runner.
// Integration suites start real servers and real clients; two at a time keeps a 2-core machine responsive.
// The runner and everything under it (test files, the `airlock serve` processes they start, curl)
// run in a process group of their own: when the runner ends a test file at its timeout (SIGTERM to
// that file only) or a file dies, whatever it started and left is killed when the run ends, so
// nothing outlives the run on a CI machine.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';

function collect(dir) {
  let out = [];
  let names;
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of names.sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out = out.concat(collect(p));
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

const filter = process.argv.slice(2);
let files = [...collect('dist/test/unit'), ...collect('dist/test/integration'), ...collect('dist/test/adversarial')];
if (filter.length > 0) files = files.filter((f) => filter.some((x) => f.includes(x)));
if (files.length === 0) {
  process.stderr.write('no test files found under dist/test (did the build run?)\n');
  process.exit(1);
}
const runner = spawn(process.execPath, ['--test', '--test-concurrency=2', '--test-timeout=180000', ...files], { stdio: 'inherit', detached: true });

/** Signals the runner's whole process group; it may be gone already. */
function signalGroup(signal) {
  try {
    process.kill(-runner.pid, signal);
  } catch {
    // ESRCH: nothing of the group is left.
  }
}
// A detached group gets no terminal signals: pass them on (Ctrl-C, CI cancelling the job).
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => signalGroup(signal));
runner.on('exit', (code) => {
  signalGroup('SIGKILL');
  process.exit(code ?? 1);
});

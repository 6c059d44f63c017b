// Issue 12: the command line's contract. Every command a message, the README or docs/ names exists; an
// unknown command is a usage error naming it; one error line format.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { COMMANDS, errorLine } from '../../../appliance/commands/cli-contract.js';
import { runCli } from '../../fixtures/airlock-process.js';
import { docPages } from '../../fixtures/doc-pages.js';

const ROOT = resolve(import.meta.dirname, '../../../..');

/** Whether `text` (e.g. "sessions ls", "vault put NAME") starts with a real command path. */
function namesRealCommand(text: string): boolean {
  const [cmd, sub] = text.trim().split(/\s+/);
  const subs = cmd === undefined ? undefined : COMMANDS[cmd];
  if (subs === undefined) return false;
  // A group named alone (`airlock sessions`) is real; a subcommand must be one of its own.
  return subs.length === 0 || sub === undefined || subs.includes(sub);
}

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Prose that starts like a command but is not one: log lines ("airlock listening on"), "airlock is a". */
const NOT_COMMANDS = /^(listening|is|stopped)\b/;

/** Command mentions in prose: `airlock x y`, (airlock x y, "run/see/use airlock x y". */
function mentions(text: string): string[] {
  const out: string[] = [];
  for (const re of [
    /`airlock ([a-z][a-z-]*(?: [a-z][a-z-]*)?)/g,
    /\(airlock ([a-z][a-z-]*(?: [a-z][a-z-]*)?)/g,
    /\b(?:run|see|use|try) airlock ([a-z][a-z-]*(?: [a-z][a-z-]*)?)/g,
  ]) {
    for (const m of text.matchAll(re)) if (!NOT_COMMANDS.test(m[1]!)) out.push(m[1]!);
  }
  return out;
}

test('every command named in a message, a hint, the README or a docs page exists', () => {
  const pages = docPages();
  const files = [...sources(join(ROOT, 'appliance')), ...pages];
  const bad: string[] = [];
  const seen = new Map<string, number>();
  for (const f of files) {
    for (const m of mentions(readFileSync(f, 'utf8'))) {
      seen.set(f, (seen.get(f) ?? 0) + 1);
      if (!namesRealCommand(m)) bad.push(`${f.slice(ROOT.length + 1)}: airlock ${m}`);
    }
  }
  const total = [...seen.values()].reduce((a, b) => a + b, 0);
  assert.ok(total > 30, `the scan finds the mentions (${total})`);
  // The command reference (once the README's command table) alone names every command.
  const reference = join(ROOT, 'docs/cli.md');
  assert.ok(pages.includes(reference), 'docs/cli.md is scanned');
  assert.ok((seen.get(reference) ?? 0) > 30, `the scan finds the command reference's mentions (${seen.get(reference) ?? 0})`);
  assert.deepEqual(bad, []);
});

test('the command reference (docs/cli.md) has a row for every command and subcommand the CLI registers', () => {
  const text = readFileSync(join(ROOT, 'docs/cli.md'), 'utf8');
  const rows = text.split('\n').filter((l) => l.startsWith('| `airlock '));
  const missing: string[] = [];
  for (const [cmd, subs] of Object.entries(COMMANDS)) {
    const own = rows.filter((r) => r.startsWith(`| \`airlock ${cmd} `) || r.startsWith(`| \`airlock ${cmd}\``));
    if (own.length === 0) missing.push(cmd);
    // A row may name two subcommands: `airlock approvals approve ID` / `deny ID`.
    for (const sub of subs) if (!own.some((r) => r.includes(`\`airlock ${cmd} ${sub}`) || r.includes(`/ \`${sub} `))) missing.push(`${cmd} ${sub}`);
  }
  assert.deepEqual(missing, []);
});

test('the command table matches what the CLI registers, command by command', async () => {
  const top = await runCli(['--help']);
  const listed = [...top.stdout.matchAll(/^ {2}airlock ([a-z-]+)/gm)].map((m) => m[1]!).sort();
  assert.deepEqual(listed, Object.keys(COMMANDS).sort());
  for (const [cmd, subs] of Object.entries(COMMANDS)) {
    if (subs.length === 0) continue;
    const h = await runCli([cmd, '--help']);
    const got = [...h.stdout.matchAll(new RegExp(`^ {2}airlock ${cmd} ([a-z-]+)`, 'gm'))].map((m) => m[1]!).sort();
    assert.deepEqual(got, [...subs].sort(), cmd);
  }
});

test('an unknown command, even with --help, is a usage error (exit 2) that names it', async () => {
  const r = await runCli(['dashboard', '--help']);
  assert.equal(r.code, 2);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^airlock: USAGE: unknown command "dashboard"/);
  const sub = await runCli(['sessions', 'list']);
  assert.equal(sub.code, 2);
  assert.match(sub.stderr, /^airlock: USAGE: unknown command "sessions list": .*\(ls, show/);
});

test('one error format: the prefix and the code appear once, whatever the message carried', () => {
  assert.equal(errorLine('TOKEN_INVALID', 'airlock: airlock: the token expired'), 'airlock: TOKEN_INVALID: the token expired');
  assert.equal(errorLine('NO_GRANT', 'airlock: NO_GRANT: no grant'), 'airlock: NO_GRANT: no grant');
  assert.equal(errorLine('X', '\n'), 'airlock: X: failed');
});

test('a config error prints one airlock: CODE: line and exits 2', async () => {
  const r = await runCli(['sessions', 'ls', '--config', join(ROOT, 'does-not-exist.yaml')]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^airlock: CONFIG_INVALID: .*does-not-exist\.yaml is invalid/);
});

test('serve --listen with a bad value names the flag, not the built-in config', async () => {
  const r = await runCli(['serve', '--listen', '3128', '--state-dir', join(ROOT, '.no-such-state')]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^airlock: CONFIG_INVALID: --listen 3128 is invalid/);
  assert.doesNotMatch(r.stderr, /built-in config/);
});

// The closed-pipe contract (| head) is tested where the output is large enough to outlast a pipe's
// buffer: test/integration/audit-truth.test.ts, 'piping export and grep --json into head ...'.

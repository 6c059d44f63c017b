import { after, before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanEnv, isRoot, lookupUser, missingTools, must, REPO_ROOT, run, withUsers } from '../fixtures/netns.js';
import { skipOutsideCi } from '../fixtures/skip-outside-ci.js';

// The appliance's files checked with the real tools that will consume them: systemd-analyze,
// nft, packer, systemd-sysusers, systemctl --root, update-ca-certificates and keytool.

const SYSTEMD = join(REPO_ROOT, 'systemd');
const PACKER = join(REPO_ROOT, 'packer');
const INSTALL = join(PACKER, 'scripts', 'install.sh');
const TRUST = join(REPO_ROOT, 'certs', 'install-trust.sh');
const UNITS = ['airlock.service', 'airlock-egress.service'] as const;

let work: string;
before(() => {
  work = mkdtempSync(join(tmpdir(), 'airlock-appliance-'));
});
after(() => {
  rmSync(work, { recursive: true, force: true });
});

function skipUnless(t: TestContext, tools: readonly string[], needRoot = false): boolean {
  const why = missingTools(tools) ?? (needRoot && !isRoot() ? 'needs root (file owners and sysusers)' : null);
  return skipOutsideCi(t, why);
}

function scratch(name: string): string {
  const d = join(work, name);
  mkdirSync(d, { recursive: true });
  return d;
}

/** Copies of the units whose Exec* binaries exist: verify fails on a missing ExecStart binary. */
function unitCopies(): string {
  const dir = scratch(`units-${Math.random().toString(36).slice(2)}`);
  const stub = join(dir, 'stub');
  writeFileSync(stub, '#!/bin/sh\nexit 0\n');
  chmodSync(stub, 0o755);
  for (const u of UNITS) {
    const text = readFileSync(join(SYSTEMD, u), 'utf8')
      .replaceAll('/usr/local/bin/airlock', stub)
      .replaceAll('/usr/local/libexec/airlock/install-trust.sh', stub)
      .replaceAll('/usr/sbin/nft', stub);
    writeFileSync(join(dir, u), text);
  }
  return dir;
}

function unitSettings(unit: string): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const raw of readFileSync(join(SYSTEMD, unit), 'utf8').split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith('[')) continue;
    const i = line.indexOf('=');
    const k = line.slice(0, i);
    m.set(k, [...(m.get(k) ?? []), line.slice(i + 1)]);
  }
  return m;
}

const ZERO_SHA = `sha256:${'0'.repeat(64)}`;
function packerEnv(): Record<string, string> {
  const home = scratch('packer-home');
  // CHECKPOINT_DISABLE: packer otherwise calls HashiCorp's version service.
  return cleanEnv({ HOME: home, CHECKPOINT_DISABLE: '1', PACKER_CACHE_DIR: join(home, 'cache'), PACKER_NO_COLOR: '1' });
}

/** A stand-in for the built Airlock: what install.sh needs, nothing that could hold a key. */
function fakeBundle(extra?: (dir: string) => void): string {
  const dir = join(work, `bundle-${Math.random().toString(36).slice(2)}`);
  mkdirSync(join(dir, 'dist', 'appliance'), { recursive: true });
  mkdirSync(join(dir, 'node_modules', 'dep'), { recursive: true });
  writeFileSync(join(dir, 'package.json'), '{"name":"airlock","version":"0.0.0-test","type":"module"}\n');
  writeFileSync(join(dir, 'dist', 'appliance', 'cli.js'), '#!/usr/bin/env node\nconsole.log("stub");\n');
  writeFileSync(join(dir, 'node_modules', 'dep', 'index.js'), 'export {};\n');
  extra?.(dir);
  return dir;
}

function walk(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = lstatSync(p);
    out.push(p);
    if (st.isDirectory()) walk(p, out);
  }
  return out;
}

function mode(p: string): number {
  return statSync(p).mode & 0o7777;
}

function countLines(file: string, prefix: string): number {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith(prefix)).length;
}

describe('systemd units', () => {
  for (const unit of UNITS) {
    test(`systemd-analyze verify prints nothing for ${unit}`, async (t) => {
      if (skipUnless(t, ['systemd-analyze'])) return;
      const dir = unitCopies();
      const r = await run('systemd-analyze', ['verify', '--man=no', join(dir, unit)]);
      assert.equal(r.stderr, '', `verify complained:\n${r.stderr}`);
      assert.equal(r.code, 0);
    });
  }

  test('airlock.service scores 2.0 or better in systemd-analyze security --offline', async (t) => {
    if (skipUnless(t, ['systemd-analyze'])) return;
    const dir = unitCopies();
    const r = await run('systemd-analyze', ['security', '--offline=true', join(dir, 'airlock.service')]);
    assert.doesNotMatch(r.stderr, /Invalid syntax|Unknown key/, r.stderr);
    const m = /Overall exposure level for airlock\.service: (\d+(?:\.\d+)?)/.exec(r.stdout);
    assert.ok(m, `no exposure level in:\n${r.stdout}${r.stderr}`);
    const score = Number(m[1]);
    console.log(`# airlock.service exposure ${score}`);
    assert.ok(score <= 2.0, `exposure ${score} > 2.0`);
  });

  test('airlock.service runs the serve contract as the static airlock user with readiness and watchdog', () => {
    const s = unitSettings('airlock.service');
    const one = (k: string) => s.get(k)?.join(' | ');
    assert.equal(one('Type'), 'notify');
    assert.equal(one('NotifyAccess'), 'all');
    assert.equal(one('WatchdogSec'), '30');
    assert.equal(one('Restart'), 'on-failure');
    assert.equal(one('User'), 'airlock');
    assert.equal(one('ExecStart'), '/usr/local/bin/airlock serve --config /etc/airlock/airlock.yaml --state-dir /var/lib/airlock');
    assert.ok(s.get('ExecStartPre')?.includes('/usr/local/bin/airlock ca init --state-dir /var/lib/airlock'));
    // `systemctl reload airlock` sends the SIGHUP that serve reloads its config on (never exits on).
    assert.equal(one('ExecReload'), '/bin/kill -HUP $MAINPID');
    assert.equal(one('CapabilityBoundingSet'), '');
    assert.equal(one('SystemCallFilter'), '@system-service @pkey');
    assert.equal(one('SystemCallErrorNumber'), 'EPERM');
    // A firewall keyed on the service's uid needs a uid that never changes; V8 needs W+X pages.
    assert.equal(s.has('DynamicUser'), false);
    assert.equal(s.has('MemoryDenyWriteExecute'), false);
    assert.match(readFileSync(join(SYSTEMD, 'airlock.sysusers'), 'utf8'), /^u airlock /m);
  });

  test('approvers reach the control socket as shipped: /run/airlock made 2750 airlock:airlock-approvers before serve, airlock a member of the group', () => {
    const s = unitSettings('airlock.service');
    // Not RuntimeDirectory=: systemd resets its mode and owner before every Exec* command, which
    // took the group off /run/airlock in a booted image (test:vm check 6.1).
    assert.equal(s.has('RuntimeDirectory'), false);
    assert.equal(s.get('ReadWritePaths')?.join(' | '), '-/run/airlock');
    assert.equal(s.get('ExecStartPre')?.[0], '+/usr/bin/install -d -o airlock -g airlock-approvers -m 2750 /run/airlock');
    assert.match(readFileSync(join(SYSTEMD, 'airlock.tmpfiles'), 'utf8'), /^d \/run\/airlock 2750 airlock airlock-approvers -$/m);
    assert.equal(s.get('StateDirectoryMode')?.join(' | '), '0700');
    const sysusers = readFileSync(join(SYSTEMD, 'airlock.sysusers'), 'utf8');
    assert.match(sysusers, /^g airlock-approvers -$/m);
    assert.match(sysusers, /^m airlock airlock-approvers$/m);
    const yaml = readFileSync(join(PACKER, 'files', 'airlock.yaml'), 'utf8');
    assert.match(yaml, /^control:\n {2}socket: \/run\/airlock\/control\.sock$/m);
    assert.match(yaml, /^approvals:\n {2}group: airlock-approvers$/m);
  });

  test('airlock-egress.service loads and removes only its own table', () => {
    const s = unitSettings('airlock-egress.service');
    assert.equal(s.get('Type')?.[0], 'oneshot');
    assert.equal(s.get('RemainAfterExit')?.[0], 'yes');
    assert.equal(s.get('Before')?.[0]?.split(/\s+/).includes('network-pre.target'), true);
    assert.equal(s.get('Wants')?.[0], 'network-pre.target');
    assert.equal(s.get('ExecStart')?.[0], '/usr/sbin/nft -f /etc/airlock/airlock-egress.nft');
    assert.equal(s.get('ExecStop')?.[0], '/usr/sbin/nft delete table inet airlock');
    for (const f of ['airlock-egress.service', 'airlock-egress.nft']) {
      assert.doesNotMatch(readFileSync(join(SYSTEMD, f), 'utf8').replace(/^\s*#.*$/gm, ''), /flush\s+ruleset/);
    }
  });
});

describe('egress ruleset', () => {
  const rules = () => withUsers(readFileSync(join(SYSTEMD, 'airlock-egress.nft'), 'utf8'), 'nobody', 'daemon');

  test('nft -c accepts the ruleset with existing users substituted', async (t) => {
    if (skipUnless(t, ['nft', 'unshare'])) return;
    const f = join(scratch('nft'), 'check.nft');
    writeFileSync(f, rules());
    const r = await run('unshare', ['-rn', 'nft', '-c', '-f', f]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
  });

  test('nft -c rejects the ruleset when the runner user does not exist', async (t) => {
    if (skipUnless(t, ['nft', 'unshare'])) return;
    const f = join(scratch('nft'), 'nouser.nft');
    writeFileSync(f, withUsers(readFileSync(join(SYSTEMD, 'airlock-egress.nft'), 'utf8'), 'no-such-user-alk', 'daemon'));
    const r = await run('unshare', ['-rn', 'nft', '-c', '-f', f]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /User does not exist/);
  });

  test('loading twice leaves one copy of every rule and ExecStop leaves other tables alone', async (t) => {
    if (skipUnless(t, ['nft', 'unshare'])) return;
    const dir = scratch('nft-reload');
    const f = join(dir, 'rules.nft');
    writeFileSync(f, rules());
    const other = join(dir, 'other.nft');
    writeFileSync(other, 'table inet other {\n\tchain c {\n\t\ttype filter hook output priority 10; policy accept;\n\t\tcounter\n\t}\n}\n');
    const stop = unitSettings('airlock-egress.service').get('ExecStop')![0]!.split(' ').slice(1);
    assert.deepEqual(stop.slice(0, 1), ['delete']);
    // One network namespace for the whole sequence; "$@" carries the ExecStop arguments.
    const script = [
      'set -e',
      'nft -f "$1"',
      'nft -f "$2"',
      'nft -j list table inet airlock > "$3/once.json"',
      'nft -f "$2"',
      'nft -j list table inet airlock > "$3/twice.json"',
      'shift 3',
      'nft "$@"',
      'nft list tables > "$0.tables"',
    ].join('\n');
    const r = await run('unshare', ['-rn', 'sh', '-c', script, join(dir, 'after'), other, f, dir, ...stop]);
    assert.equal(r.code, 0, r.stderr);
    const rulesOf = (name: string) =>
      (JSON.parse(readFileSync(join(dir, name), 'utf8')) as { nftables: Array<{ rule?: unknown }> }).nftables.filter((o) => o.rule).length;
    assert.ok(rulesOf('once.json') >= 10, 'the table has its rules');
    assert.equal(rulesOf('twice.json'), rulesOf('once.json'));
    assert.equal(readFileSync(join(dir, 'after.tables'), 'utf8').trim(), 'table inet other');
  });
});

describe('packer template', () => {
  test('packer fmt -check finds nothing to reformat', async (t) => {
    if (skipUnless(t, ['packer'])) return;
    for (const target of [PACKER, join(PACKER, 'smoke'), join(PACKER, 'plugins.pkr.hcl')]) {
      const r = await run('packer', ['fmt', '-check', target], { env: packerEnv() });
      assert.equal(r.code, 0, `${target}: ${r.stdout}${r.stderr}`);
    }
  });

  test('packer validate accepts the template without the plugins file, offline', async (t) => {
    if (skipUnless(t, ['packer'])) return;
    const dir = scratch('packer-template');
    const names = readdirSync(PACKER).filter((n) => n.endsWith('.pkr.hcl') && n !== 'plugins.pkr.hcl');
    assert.deepEqual([...names].sort(), ['build.pkr.hcl', 'sources.pkr.hcl', 'variables.pkr.hcl']);
    for (const n of names) copyFileSync(join(PACKER, n), join(dir, n));
    const bundle = join(work, 'bundle.tgz');
    writeFileSync(bundle, '');
    const r = await run(
      'packer',
      ['validate', '-var', `source_root=${REPO_ROOT}`, '-var', `airlock_bundle=${bundle}`, '-var', `ubuntu_image_checksum=${ZERO_SHA}`, dir],
      { env: packerEnv() },
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const inspect = await must('packer', ['inspect', dir], { env: packerEnv() });
    assert.match(inspect.stdout, /qemu\.runner/);
    assert.match(inspect.stdout, /amazon-ebs\.runner/);
  });

  test('the null-source smoke build runs install.sh into a scratch sysroot', async (t) => {
    if (skipUnless(t, ['packer', 'systemd-sysusers', 'systemctl', 'update-ca-certificates', 'openssl'], true)) return;
    const sysroot = scratch('smoke-root');
    const r = await run('packer', ['build', '-var', `sysroot=${sysroot}`, '-var', `bundle_dir=${fakeBundle()}`, join(PACKER, 'smoke')], {
      env: packerEnv(),
      timeoutMs: 120_000,
    });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /smoke: installed into/);
    assert.equal(readlinkSync(join(sysroot, 'etc/systemd/system/multi-user.target.wants/airlock.service')), '/etc/systemd/system/airlock.service');
  });
});

/** The host's own entries for the accounts install.sh creates, whether or not they exist. */
function hostAccounts(): string {
  const group = readFileSync('/etc/group', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('airlock-approvers:'));
  return JSON.stringify({ airlock: lookupUser('airlock') ?? null, runner: lookupUser('runner') ?? null, approvers: group ?? null });
}

describe('install.sh --sysroot', () => {
  let root: string;
  let runs: Array<{ code: number; stdout: string; stderr: string }>;
  let airlock: { uid: number; gid: number };
  let hostBefore: string;

  before(async () => {
    if (missingTools(['systemd-sysusers', 'systemctl', 'update-ca-certificates', 'openssl']) || !isRoot()) return;
    hostBefore = hostAccounts();
    root = scratch('sysroot');
    const bundle = fakeBundle();
    runs = [];
    // Twice: the second run must change nothing that matters.
    for (let i = 0; i < 2; i++) {
      runs.push(await run('bash', [INSTALL, '--sysroot', root, '--from', bundle, '--runner-dir', '/opt/actions-runner', '--gitlab'], { timeoutMs: 120_000 }));
    }
    const a = lookupUser('airlock', join(root, 'etc/passwd'));
    if (a) airlock = a;
  });

  const ready = (t: TestContext) => {
    if (skipUnless(t, ['systemd-sysusers', 'systemctl', 'update-ca-certificates', 'openssl'], true)) return false;
    for (const r of runs) assert.equal(r.code, 0, r.stderr);
    return true;
  };

  test('creates the airlock and runner users in the sysroot, not on the host', (t) => {
    if (!ready(t)) return;
    assert.ok(airlock, 'airlock in sysroot /etc/passwd');
    assert.ok(lookupUser('runner', join(root, 'etc/passwd')));
    // Compared with the host as it was, so a host that already has these accounts passes too.
    assert.equal(hostAccounts(), hostBefore, "the host's airlock, runner and airlock-approvers entries are as they were");
    assert.match(runs[0]!.stderr, /sysroot mode: not installing packages/);
  });

  test('creates the airlock-approvers group with airlock as its member, and tells shells where the control socket is', (t) => {
    if (!ready(t)) return;
    const line = readFileSync(join(root, 'etc/group'), 'utf8')
      .split('\n')
      .find((l) => l.startsWith('airlock-approvers:'));
    assert.ok(line, 'airlock-approvers in the sysroot /etc/group');
    assert.deepEqual(line.split(':')[3]?.split(','), ['airlock']);
    assert.equal(countLines(join(root, 'etc/environment'), 'AIRLOCK_CONTROL_SOCKET='), 1);
    assert.ok(readFileSync(join(root, 'etc/environment'), 'utf8').split('\n').includes('AIRLOCK_CONTROL_SOCKET=/run/airlock/control.sock'));
    // The socket's directory comes from tmpfiles.d at every boot (not RuntimeDirectory=).
    assert.equal(readFileSync(join(root, 'usr/lib/tmpfiles.d/airlock.conf'), 'utf8'), readFileSync(join(SYSTEMD, 'airlock.tmpfiles'), 'utf8'));
  });

  test('state and log directories are 0700 and owned by airlock; config is 0640 root:airlock', (t) => {
    if (!ready(t)) return;
    for (const d of ['var/lib/airlock', 'var/log/airlock']) {
      const st = statSync(join(root, d));
      assert.ok(st.isDirectory());
      assert.equal(mode(join(root, d)), 0o700, d);
      assert.equal(st.uid, airlock.uid, d);
      assert.equal(st.gid, airlock.gid, d);
    }
    const cfg = statSync(join(root, 'etc/airlock/airlock.yaml'));
    assert.equal(cfg.mode & 0o7777, 0o640);
    assert.equal(cfg.uid, 0);
    assert.equal(cfg.gid, airlock.gid);
    const creds = statSync(join(root, 'etc/airlock/credentials'));
    assert.equal(creds.mode & 0o7777, 0o700);
    assert.equal(creds.uid, 0);
  });

  test('units are installed and enabled through wants symlinks', (t) => {
    if (!ready(t)) return;
    for (const u of UNITS) {
      assert.equal(readFileSync(join(root, 'etc/systemd/system', u), 'utf8'), readFileSync(join(SYSTEMD, u), 'utf8'));
    }
    assert.equal(readlinkSync(join(root, 'etc/systemd/system/multi-user.target.wants/airlock.service')), '/etc/systemd/system/airlock.service');
    assert.equal(readlinkSync(join(root, 'etc/systemd/system/sysinit.target.wants/airlock-egress.service')), '/etc/systemd/system/airlock-egress.service');
  });

  test('the ruleset names the runner and airlock users and the app is root-owned and not writable by others', (t) => {
    if (!ready(t)) return;
    const nft = readFileSync(join(root, 'etc/airlock/airlock-egress.nft'), 'utf8');
    assert.match(nft, /^define RUNNER_USER = "runner"$/m);
    assert.match(nft, /^define AIRLOCK_USER = "airlock"$/m);
    assert.equal(readlinkSync(join(root, 'usr/local/bin/airlock')), '/opt/airlock/dist/appliance/cli.js');
    assert.equal(mode(join(root, 'opt/airlock/dist/appliance/cli.js')), 0o755);
    for (const p of walk(join(root, 'opt/airlock'))) {
      const st = lstatSync(p);
      if (st.isSymbolicLink()) continue;
      assert.equal(st.uid, 0, p);
      assert.equal(st.mode & 0o022, 0, `${p} is group/other writable`);
    }
    assert.equal(mode(join(root, 'usr/local/libexec/airlock/install-trust.sh')), 0o755);
  });

  test('the runner .env and /etc/environment carry proxy, CA and hook variables exactly once after two runs', (t) => {
    if (!ready(t)) return;
    const env = join(root, 'opt/actions-runner/.env');
    const want = [
      'https_proxy=http://127.0.0.1:3128',
      'HTTPS_PROXY=http://127.0.0.1:3128',
      'no_proxy=localhost,127.0.0.1,::1',
      'NO_PROXY=localhost,127.0.0.1,::1',
      'ACTIONS_RUNNER_HOOK_JOB_STARTED=/opt/airlock/hooks/job-started.sh',
      'ACTIONS_RUNNER_HOOK_JOB_COMPLETED=/opt/airlock/hooks/job-completed.sh',
      'NODE_EXTRA_CA_CERTS=/usr/local/share/ca-certificates/airlock-ca.crt',
      'SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt',
      'REQUESTS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt',
      'CURL_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt',
      'AWS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt',
      'PIP_CERT=/etc/ssl/certs/ca-certificates.crt',
    ];
    const lines = readFileSync(env, 'utf8').split('\n');
    for (const w of want) {
      assert.ok(lines.includes(w), `.env lacks ${w}`);
      assert.equal(countLines(env, `${w.split('=')[0]}=`), 1, `${w} duplicated`);
    }
    assert.ok(
      lines.every((l) => !/["']/.test(l)),
      '.env lines are literal, unquoted',
    );
    const runnerUid = lookupUser('runner', join(root, 'etc/passwd'))!.uid;
    assert.equal(statSync(env).uid, runnerUid, 'the runner can still append to its .env');
    for (const w of want.slice(6)) assert.equal(countLines(join(root, 'etc/environment'), `${w.split('=')[0]}=`), 1, w);
    for (const h of ['job-started.sh', 'job-completed.sh']) assert.equal(mode(join(root, 'opt/airlock/hooks', h)), 0o755);
    const dropin = readFileSync(join(root, 'etc/systemd/system/gitlab-runner.service.d/airlock.conf'), 'utf8');
    assert.match(dropin, /^Environment="https_proxy=http:\/\/127\.0\.0\.1:3128"$/m);
    assert.match(dropin, /^Environment="HTTPS_PROXY=http:\/\/127\.0\.0\.1:3128"$/m);
    assert.match(dropin, /^Environment="NODE_EXTRA_CA_CERTS=/m);
    assert.match(readFileSync(join(root, 'opt/airlock/share/gitlab-runner-config.toml'), 'utf8'), /^\[\[runners\]\]\n {2}environment = \[/m);
  });

  test('no CA key or certificate and no private key anywhere in the image', (t) => {
    if (!ready(t)) return;
    const offenders: string[] = [];
    for (const p of walk(root)) {
      const st = lstatSync(p);
      const base = p.slice(p.lastIndexOf('/') + 1);
      if (base === 'ca.key' || base === 'ca.crt' || base === 'airlock-ca.crt') offenders.push(p);
      if (st.isFile() && readFileSync(p).includes('PRIVATE KEY')) offenders.push(p);
    }
    assert.deepEqual(offenders, []);
  });
});

describe('install.sh refusals', () => {
  test('install.sh refuses a bundle that carries a CA key and installs nothing', async (t) => {
    if (skipUnless(t, ['systemd-sysusers', 'systemctl'], true)) return;
    const root = scratch('refuse-root');
    const bundle = fakeBundle((d) => {
      mkdirSync(join(d, '.airlock', 'ca'), { recursive: true });
      writeFileSync(join(d, '.airlock', 'ca', 'ca.key'), 'not really a key\n');
    });
    const r = await run('bash', [INSTALL, '--sysroot', root, '--from', bundle]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /refusing to put CA material into the image/);
    assert.deepEqual(readdirSync(root), []);
  });
});

describe('install.sh with a bundled runtime', () => {
  test('a bundle carrying node/bin/node installs that runtime and an airlock wrapper that runs it', async (t) => {
    if (skipUnless(t, ['systemd-sysusers', 'systemctl', 'tar'], true)) return;
    const root = scratch('bundled-node-root');
    const dir = fakeBundle((d) => {
      mkdirSync(join(d, 'node', 'bin'), { recursive: true });
      writeFileSync(join(d, 'node', 'bin', 'node'), '#!/bin/sh\necho bundled\n');
      chmodSync(join(d, 'node', 'bin', 'node'), 0o755);
    });
    const tgz = join(work, 'bundled-node.tgz');
    await must('tar', ['-C', dir, '-czf', tgz, 'package.json', 'dist', 'node_modules', 'node']);
    await must('bash', [INSTALL, '--sysroot', root, '--bundle', tgz], { timeoutMs: 120_000 });
    const node = join(root, 'opt/airlock/node/bin/node');
    assert.equal(mode(node) & 0o777, 0o755);
    assert.equal(statSync(node).uid, 0);
    const wrapper = join(root, 'usr/local/bin/airlock');
    assert.ok(!lstatSync(wrapper).isSymbolicLink(), 'a wrapper script, not the cli.js symlink');
    assert.equal(readFileSync(wrapper, 'utf8'), '#!/bin/sh\nexec /opt/airlock/node/bin/node /opt/airlock/dist/appliance/cli.js "$@"\n');
    assert.equal(mode(wrapper), 0o755);
  });
});

describe('runner hooks', () => {
  const hook = (name: string) => join(PACKER, 'files', 'hooks', name);
  function stub(body: string): string {
    const p = join(scratch('hook-stubs'), `airlock-${Math.random().toString(36).slice(2)}`);
    writeFileSync(p, `#!/bin/sh\n${body}\n`);
    chmodSync(p, 0o755);
    return p;
  }

  test('the job-started hook logs in when `airlock login` exists', async () => {
    const bin = stub('[ "$1" = login ] || exit 9\n[ "${2:-}" = --help ] && exit 0\necho "login ran"; exit 0');
    const r = await run('bash', [hook('job-started.sh')], { env: cleanEnv({ AIRLOCK_BIN: bin }) });
    assert.equal(r.code, 0);
    assert.match(r.stdout, /login ran/);
    assert.match(r.stdout, /job session opened/);
  });

  test('inside a GitHub job the job-started hook logs in with --format github-env so the steps get the variables', async () => {
    const bin = stub('[ "$1" = login ] || exit 9\n[ "${2:-}" = --help ] && exit 0\necho "login args: $*"; exit 0');
    const r = await run('bash', [hook('job-started.sh')], { env: cleanEnv({ AIRLOCK_BIN: bin, GITHUB_ENV: '/dev/null' }) });
    assert.equal(r.code, 0);
    assert.match(r.stdout, /login args: login --format github-env/);
  });

  test('the job-completed hook logs the job out when it has a session token, then flushes', async () => {
    const bin = stub('[ "${2:-}" = --help ] || [ "${3:-}" = --help ] && exit 0\necho "ran: $*"; exit 0');
    const r = await run('bash', [hook('job-completed.sh')], { env: cleanEnv({ AIRLOCK_BIN: bin, AIRLOCK_SESSION_TOKEN: 'alk_test' }) });
    assert.equal(r.code, 0);
    assert.match(r.stdout, /ran: logout\n[\s\S]*ran: sessions flush/);
  });

  test('the job-started hook exits 0 with a warning when login fails', async () => {
    const bin = stub('[ "${2:-}" = --help ] && exit 0\nexit 3');
    const r = await run('bash', [hook('job-started.sh')], { env: cleanEnv({ AIRLOCK_BIN: bin }) });
    assert.equal(r.code, 0);
    assert.match(r.stdout, /::warning::Airlock: 'airlock login' failed \(exit 3\)/);
  });

  test('the job-started hook prints the manual step when there is no login subcommand', async () => {
    const r = await run('bash', [hook('job-started.sh')], { env: cleanEnv({ AIRLOCK_BIN: stub('exit 1') }) });
    assert.equal(r.code, 0);
    assert.match(r.stdout, /no 'airlock login' yet/);
    assert.match(r.stdout, /id-token: write/);
  });

  test('the job-completed hook flushes sessions when available and exits 0 when flushing fails', async () => {
    const ok = await run('bash', [hook('job-completed.sh')], {
      env: cleanEnv({ AIRLOCK_BIN: stub('[ "$1 $2" = "sessions flush" ] || exit 9\n[ "${3:-}" = --help ] && exit 0\necho flushed') }),
    });
    assert.equal(ok.code, 0);
    assert.match(ok.stdout, /flushed/);
    const bad = await run('bash', [hook('job-completed.sh')], {
      env: cleanEnv({ AIRLOCK_BIN: stub('[ "${3:-}" = --help ] && exit 0\nexit 4') }),
    });
    assert.equal(bad.code, 0);
    assert.match(bad.stdout, /failed \(exit 4\)/);
  });
});

describe('install-trust.sh', () => {
  let root: string;
  let ca: string;
  let keyFile: string;
  let javaStore: string | null = null;
  const runs: Array<{ code: number; stdout: string; stderr: string }> = [];

  before(async () => {
    if (missingTools(['openssl', 'update-ca-certificates'])) return;
    root = scratch('trust-root');
    const d = scratch('trust-ca');
    ca = join(d, 'ca.pem');
    keyFile = join(d, 'key.pem');
    await must('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      keyFile,
      '-out',
      ca,
      '-subj',
      '/CN=Airlock test CA',
      '-days',
      '1',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
    ]);
    // A tarball-style JDK in the sysroot: its own cacerts file, not a link to the system store.
    if (!missingTools(['keytool'])) {
      const jdkSec = join(root, 'usr/lib/jvm/test-jdk/lib/security');
      mkdirSync(jdkSec, { recursive: true });
      javaStore = join(jdkSec, 'cacerts');
      await must(
        'keytool',
        [
          '-genkeypair',
          '-alias',
          'placeholder',
          '-keyalg',
          'EC',
          '-dname',
          'CN=placeholder',
          '-keystore',
          javaStore,
          '-storetype',
          'PKCS12',
          '-storepass:env',
          'SP',
          '-keypass:env',
          'SP',
        ],
        { env: cleanEnv({ SP: 'changeit' }) },
      );
      await must('keytool', ['-delete', '-alias', 'placeholder', '-keystore', javaStore, '-storepass:env', 'SP'], { env: cleanEnv({ SP: 'changeit' }) });
    }
    mkdirSync(join(root, 'opt/runner'), { recursive: true });
    for (let i = 0; i < 2; i++) runs.push(await run('bash', [TRUST, '--sysroot', root, '--runner-dir', '/opt/runner', ca]));
  });

  const ready = (t: TestContext) => {
    if (skipUnless(t, ['openssl', 'update-ca-certificates'])) return false;
    for (const r of runs) assert.equal(r.code, 0, r.stderr);
    return true;
  };

  test('puts the CA into the sysroot system store with links valid on the booted system', async (t) => {
    if (!ready(t)) return;
    const installed = join(root, 'usr/local/share/ca-certificates/airlock-ca.crt');
    const fp = async (f: string) => (await must('openssl', ['x509', '-noout', '-fingerprint', '-sha256', '-in', f])).stdout;
    assert.equal(await fp(installed), await fp(ca));
    assert.equal(mode(installed), 0o644);
    assert.equal(readlinkSync(join(root, 'etc/ssl/certs/airlock-ca.pem')), '/usr/local/share/ca-certificates/airlock-ca.crt');
    const bundle = readFileSync(join(root, 'etc/ssl/certs/ca-certificates.crt'), 'utf8');
    assert.equal(bundle.split('BEGIN CERTIFICATE').length - 1, 1, 'the CA once in the bundle after two runs');
    assert.ok(bundle.includes(readFileSync(installed, 'utf8').trim()));
    // A leaf signed by the CA verifies against the sysroot bundle.
    const d = scratch('trust-leaf');
    await must('openssl', [
      'req',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      join(d, 'leaf.key'),
      '-out',
      join(d, 'leaf.csr'),
      '-subj',
      '/CN=api.datadoghq.com',
    ]);
    await must('openssl', [
      'x509',
      '-req',
      '-in',
      join(d, 'leaf.csr'),
      '-CA',
      ca,
      '-CAkey',
      keyFile,
      '-CAcreateserial',
      '-out',
      join(d, 'leaf.pem'),
      '-days',
      '1',
    ]);
    const v = await run('openssl', ['verify', '-CAfile', join(root, 'etc/ssl/certs/ca-certificates.crt'), join(d, 'leaf.pem')]);
    assert.equal(v.code, 0, v.stdout + v.stderr);
  });

  test('imports the CA once into a JDK cacerts found in the sysroot', async (t) => {
    if (!ready(t) || skipUnless(t, ['keytool'])) return;
    const r = await must('keytool', ['-list', '-keystore', javaStore!, '-storepass:env', 'SP'], { env: cleanEnv({ SP: 'changeit' }) });
    assert.equal(r.stdout.split('\n').filter((l) => l.startsWith('airlock-ca,')).length, 1, r.stdout);
  });

  test('a second run with the same CA (same fingerprint) leaves the system bundle and the Java store alone', (t) => {
    if (!ready(t)) return;
    assert.doesNotMatch(runs[0]!.stderr, /unchanged/);
    assert.match(runs[1]!.stderr, /system store already trusts this CA; unchanged/);
    if (javaStore) assert.match(runs[1]!.stderr, /Java store \/usr\/lib\/jvm\/test-jdk\/lib\/security\/cacerts already trusts this CA; unchanged/);
  });

  test('writes each CA variable once to /etc/environment and the runner .env', (t) => {
    if (!ready(t)) return;
    for (const f of [join(root, 'etc/environment'), join(root, 'opt/runner/.env')]) {
      for (const k of ['NODE_EXTRA_CA_CERTS', 'REQUESTS_CA_BUNDLE', 'SSL_CERT_FILE', 'CURL_CA_BUNDLE', 'AWS_CA_BUNDLE', 'PIP_CERT']) {
        assert.equal(countLines(f, `${k}=`), 1, `${f} ${k}`);
      }
    }
  });

  test('refuses a file that is not a certificate and installs nothing', async (t) => {
    if (skipUnless(t, ['openssl', 'update-ca-certificates'])) return;
    const r2 = scratch('trust-refuse');
    const r = await run('bash', [TRUST, '--sysroot', r2, keyFile]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /not a PEM certificate/);
    assert.deepEqual(readdirSync(join(r2, 'usr/local/share/ca-certificates')), []);
  });
  // Last in this group: it replaces the CA in the shared sysroot.
  test('a new CA (another fingerprint) replaces the old one in the bundle and the Java store', async (t) => {
    if (!ready(t)) return;
    const d = scratch('trust-ca2');
    const ca2 = join(d, 'ca.pem');
    await must('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      join(d, 'key.pem'),
      '-out',
      ca2,
      '-subj',
      '/CN=Airlock test CA 2',
      '-days',
      '1',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
    ]);
    const r = await run('bash', [TRUST, '--sysroot', root, '--runner-dir', '/opt/runner', ca2]);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /unchanged/);
    const bundle = readFileSync(join(root, 'etc/ssl/certs/ca-certificates.crt'), 'utf8');
    assert.equal(bundle.split('BEGIN CERTIFICATE').length - 1, 1, 'only the new CA in the bundle');
    assert.ok(bundle.includes(readFileSync(ca2, 'utf8').trim()));
    if (javaStore) {
      const fp = (await must('openssl', ['x509', '-noout', '-fingerprint', '-sha256', '-in', ca2])).stdout.trim().split('=')[1]!;
      const l = await must('keytool', ['-list', '-keystore', javaStore, '-storepass:env', 'SP', '-alias', 'airlock-ca'], {
        env: cleanEnv({ SP: 'changeit', LC_ALL: 'C' }),
      });
      assert.ok(l.stdout.includes(fp), l.stdout);
    }
  });
});

test('the default appliance config is accepted by the config loader', async () => {
  const { loadConfig } = await import('../../appliance/config/load-config.js');
  const { config: cfg } = loadConfig({ configFile: join(PACKER, 'files', 'airlock.yaml') });
  assert.equal(cfg.listen.port, 3128);
  assert.equal(cfg.stateDir, '/var/lib/airlock');
  // The runner reaches GitHub through Airlock, so the image opts into passthrough explicitly,
  // and must still intercept every Datadog site (a narrower list would tunnel the rest blind).
  assert.equal(cfg.passthrough, 'allow');
  for (const site of ['datadoghq.com', 'us3.datadoghq.com', 'datadoghq.eu', 'ddog-gov.com', 'browser-intake-datadoghq.com']) {
    assert.ok(cfg.intercept.datadogSites.includes(site), `the appliance config intercepts ${site}`);
  }
  assert.equal(cfg.control.socket, '/run/airlock/control.sock');
  assert.equal(cfg.approvals.group, 'airlock-approvers');
});

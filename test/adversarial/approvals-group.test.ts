// Finding 10 of issue #11: approvals must work as shipped. The server runs as a non-root service
// user whose state dir is 0700; the control socket lives outside it, in a directory the approvers
// group can traverse (what systemd's RuntimeDirectory= plus the unit's chgrp make), 0660
// service-user:approvers. A real second user in the group approves; a non-member is refused.
// Needs root (useradd/groupadd); every user and group made here is removed in `after`.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { startAirlock, run, CLI, type Airlock } from '../fixtures/airlock-process.js';
import { assertNoSecrets, parseResponses } from '../fixtures/refusal-helpers.js';
import { rawTlsExchange } from '../fixtures/raw-tls.js';
import { suiteSkip } from '../fixtures/skip-outside-ci.js';

const isRoot = process.getuid?.() === 0;
const tag = randomBytes(3).toString('hex');
const GROUP = `alkg${tag}`;
const SVC = `alksvc${tag}`;
const APPROVER = `alkok${tag}`;
const OUTSIDER = `alkno${tag}`;
const POLICY = { default: 'allow', rules: [{ match: 'DELETE /api/v1/dashboard/*', action: 'approve' }] };

const idOf = (flag: string, name: string): number => Number(execFileSync('id', [flag, name]).toString().trim());
const gidOf = (group: string): number => Number(execFileSync('getent', ['group', group]).toString().split(':')[2]);
const modeOf = (p: string): number => statSync(p).mode & 0o7777;

/** The CLI as another OS user, never through a shell. */
const cliAs = (user: string, args: string[], env: NodeJS.ProcessEnv = {}) =>
  run('runuser', ['-u', user, '--', 'env', ...Object.entries(env).map(([k, v]) => `${k}=${v ?? ''}`), process.execPath, CLI, ...args]);

describe(
  'approvals as shipped: a service user, an approvers group, a real approver',
  { skip: suiteSkip(!isRoot && 'needs root to create users and a group') },
  () => {
    let made: string[] = [];
    let groupMade = false;
    let runDir: string;
    let a: Airlock;
    let sock: string;
    let token: string;

    before(async () => {
      execFileSync('groupadd', [GROUP]);
      groupMade = true;
      // The sysusers `m airlock airlock-approvers` line: the service user is a member.
      execFileSync('useradd', ['-M', '-U', '-s', '/usr/sbin/nologin', '-G', GROUP, SVC]);
      made.push(SVC);
      execFileSync('useradd', ['-M', '-N', '-s', '/usr/sbin/nologin', '-G', GROUP, APPROVER]);
      made.push(APPROVER);
      execFileSync('useradd', ['-M', '-N', '-s', '/usr/sbin/nologin', OUTSIDER]);
      made.push(OUTSIDER);
      // What RuntimeDirectory=airlock and the unit's `+install -d -g airlock-approvers -m 2750` leave.
      runDir = mkdtempSync(join(tmpdir(), 'airlock-run-'));
      chmodSync(runDir, 0o755);
      const ctl = join(runDir, 'airlock');
      mkdirSync(ctl);
      chownSync(ctl, idOf('-u', SVC), gidOf(GROUP));
      chmodSync(ctl, 0o2750);
      sock = join(ctl, 'control.sock');
      a = await startAirlock({
        serveAs: SVC,
        grantPolicy: 'deletes-need-approval',
        config: {
          policies: { 'deletes-need-approval': POLICY },
          approvals: { timeout: '60s', group: GROUP },
          control: { socket: sock },
        },
      });
      token = await a.issuer.mint({ repository_id: '123456', ref: 'refs/heads/main' });
    });

    after(async () => {
      await a?.cleanup();
      if (runDir) rmSync(runDir, { recursive: true, force: true });
      for (const u of made) execFileSync('userdel', [u]);
      if (groupMade) execFileSync('groupdel', [GROUP]);
      made = [];
    });

    /** A DELETE through a raw tunnel; it stays open while held. */
    const heldDelete = (id: string): Promise<string> =>
      rawTlsExchange({
        port: a.port,
        ca: readFileSync(a.caPath, 'utf8'),
        proxyAuth: `Bearer ${token}`,
        request: `DELETE /api/v1/dashboard/${id} HTTP/1.1\r\nHost: api.datadoghq.com\r\nConnection: close\r\n\r\n`,
        ms: 90_000,
      });

    async function pendingId(path: string): Promise<string> {
      for (let i = 0; i < 100; i++) {
        const ls = await a.cli(['approvals', 'ls', '--json']);
        const p = (JSON.parse(ls.stdout || '[]') as { id: string; url: string }[]).find((x) => x.url.endsWith(path));
        if (p) return p.id;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`no hold for ${path}`);
    }

    test('the socket is 0660 service-user:approvers in a group-reachable directory while the state dir stays 0700', () => {
      const st = statSync(sock);
      assert.ok(st.isSocket());
      assert.equal(modeOf(sock), 0o660);
      assert.equal(st.uid, idOf('-u', SVC));
      assert.equal(st.gid, gidOf(GROUP));
      assert.equal(modeOf(a.stateDir), 0o700);
      assert.equal(statSync(a.stateDir).uid, idOf('-u', SVC));
      assert.equal(a.child?.exitCode, null);
    });

    test('an approver in the group lists the held request and approves it; the request then reaches Datadog and the HAR names the approver', async () => {
      const before = a.datadog.received.length;
      const pending = heldDelete('abc-def-101');
      const id = await pendingId('/api/v1/dashboard/abc-def-101');
      assert.equal(a.datadog.received.length, before, 'nothing went upstream while held');
      const ls = await cliAs(APPROVER, ['approvals', 'ls', '--json', '--config', a.configPath]);
      assert.equal(ls.code, 0, ls.stderr);
      assert.ok(
        (JSON.parse(ls.stdout) as { id: string }[]).some((p) => p.id === id),
        ls.stdout,
      );
      // Without the (unreadable on the appliance) config: AIRLOCK_CONTROL_SOCKET names the socket.
      const ok = await cliAs(APPROVER, ['approvals', 'approve', id, '--note', 'fine'], { AIRLOCK_CONTROL_SOCKET: sock });
      assert.equal(ok.code, 0, ok.stderr);
      assert.match(ok.stdout, new RegExp(`approved ${id}.*by ${APPROVER}`));
      const r = parseResponses(await pending);
      assert.equal(r.status, 200, r.body);
      const got = a.datadog.received.slice(before);
      assert.equal(got.length, 1);
      assert.equal(got[0]!.method, 'DELETE');
      assert.equal(got[0]!.headers['dd-api-key'], a.apiKey);
      const sessions = JSON.parse((await a.cli(['sessions', 'ls', '--json'])).stdout) as { id: string }[];
      const har = JSON.parse((await a.cli(['sessions', 'export', sessions[0]!.id])).stdout) as { log: { entries: { _airlock: Record<string, unknown> }[] } };
      const e = har.log.entries.at(-1)!;
      assert.equal(e._airlock['decision'], 'approved');
      assert.equal((e._airlock['approval'] as { by: string }).by, APPROVER);
      assertNoSecrets(a, [token], [ls.stdout, ok.stdout, ok.stderr]);
    });

    test('a user outside the group is refused with APPROVAL_FORBIDDEN and exit 1, and the hold stays pending until a member decides', async () => {
      const before = a.datadog.received.length;
      const pending = heldDelete('abc-def-102');
      const id = await pendingId('/api/v1/dashboard/abc-def-102');
      for (const args of [
        ['approvals', 'ls'],
        ['approvals', 'approve', id],
      ]) {
        const r = await cliAs(OUTSIDER, [...args, '--config', a.configPath]);
        assert.equal(r.code, 1, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
        assert.match(r.stderr, /APPROVAL_FORBIDDEN/);
        assert.match(r.stderr, new RegExp(`${OUTSIDER} may not use the control socket`));
      }
      const still = await cliAs(APPROVER, ['approvals', 'ls', '--json', '--config', a.configPath]);
      assert.ok(
        (JSON.parse(still.stdout) as { id: string }[]).some((p) => p.id === id),
        'the outsider decided nothing',
      );
      const no = await cliAs(APPROVER, ['approvals', 'deny', id, '--reason', 'not today', '--config', a.configPath]);
      assert.equal(no.code, 0, no.stderr);
      const r = parseResponses(await pending);
      assert.equal(r.status, 403);
      assert.equal(r.headers['x-airlock-error'], 'APPROVAL_DENIED');
      assert.equal(a.datadog.received.length, before, 'the denied request never reached Datadog');
      assert.equal(a.child?.exitCode, null);
    });
  },
);

describe('a control.socket directory that does not exist yet', { skip: suiteSkip(!isRoot && 'needs root to create users and a group') }, () => {
  let made: string[] = [];
  let groupMade = false;
  let base: string;
  let a: Airlock;

  before(async () => {
    execFileSync('groupadd', [GROUP + 'x']);
    groupMade = true;
    execFileSync('useradd', ['-M', '-U', '-s', '/usr/sbin/nologin', '-G', GROUP + 'x', SVC + 'x']);
    made.push(SVC + 'x');
    execFileSync('useradd', ['-M', '-N', '-s', '/usr/sbin/nologin', '-G', GROUP + 'x', APPROVER + 'x']);
    made.push(APPROVER + 'x');
    base = mkdtempSync(join(tmpdir(), 'airlock-run-'));
    chownSync(base, idOf('-u', SVC + 'x'), idOf('-g', SVC + 'x'));
    chmodSync(base, 0o755);
    a = await startAirlock({ serveAs: SVC + 'x', config: { approvals: { group: GROUP + 'x' }, control: { socket: join(base, 'ctl', 'control.sock') } } });
  });

  after(async () => {
    await a?.cleanup();
    if (base) rmSync(base, { recursive: true, force: true });
    for (const u of made) execFileSync('userdel', [u]);
    if (groupMade) execFileSync('groupdel', [GROUP + 'x']);
    made = [];
  });

  test('the server creates it 0750 with the approvers group (chown works because the service user is a member) and a member can list holds', async () => {
    const dir = join(base, 'ctl');
    assert.equal(modeOf(dir), 0o750);
    assert.equal(statSync(dir).gid, gidOf(GROUP + 'x'));
    assert.equal(modeOf(join(dir, 'control.sock')), 0o660);
    assert.equal(statSync(join(dir, 'control.sock')).gid, gidOf(GROUP + 'x'));
    const ls = await cliAs(APPROVER + 'x', ['approvals', 'ls', '--config', a.configPath]);
    assert.equal(ls.code, 0, ls.stderr);
    assert.match(ls.stdout, /no requests are waiting/);
  });
});

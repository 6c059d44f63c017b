// Issue 12: what `airlock serve` checks before it runs. A grant that pins no tenant on a shared
// issuer (github.com) is refused (exit 2) unless allowAnyTenant; a grant whose credential is not
// in the vault is warned about at start and reported by check-config --state-dir; a busy port
// (the proxy's or the admin listener's) fails the start with nothing created on disk.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { runCli, startAirlock } from '../fixtures/airlock-process.js';

const tmp = mkdtempSync(join(tmpdir(), 'airlock-startup-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function config(name: string, over: Record<string, unknown>): string {
  const file = join(tmp, `${name}.yaml`);
  writeFileSync(file, stringify({ listen: '127.0.0.1:0', stateDir: join(tmp, `${name}-state`), ...over }));
  return file;
}

const GITHUB = { issuers: [{ name: 'gh', preset: 'github', audience: 'airlock' }] };

test('serve refuses (exit 2, nothing created) a grant on github.com that pins no repository or owner', async () => {
  const cfg = config('open', { identity: { ...GITHUB, grants: [{ name: 'everyone', issuer: 'gh', claims: {}, credential: 'dd-prod' }] } });
  const r = await runCli(['serve', '--config', cfg]);
  assert.equal(r.code, 2);
  assert.match(
    r.stderr,
    /^airlock: CONFIG_REFUSED: .*open\.yaml is refused:\n {2}identity\.grants\[0\]\.claims: grant everyone pins no tenant, and every tenant of https:\/\/token\.actions\.githubusercontent\.com shares that issuer/,
  );
  assert.match(r.stderr, /allowAnyTenant: true/);
  assert.equal(existsSync(join(tmp, 'open-state')), false, 'nothing was created');
});

test('allowAnyTenant: true lets such a grant run; a grant whose credential is not in the vault is warned about at start', async () => {
  const a = await startAirlock({
    noVault: true,
    identity: (url) => ({
      issuers: [
        { name: 'github', issuer: url, audience: 'airlock', algorithms: ['RS256'] },
        { name: 'gh', preset: 'github', audience: 'airlock' },
      ],
      grants: [
        { name: 'dashboards-bot', issuer: 'github', claims: { repository_id: '123456' }, credential: 'dd-prod' },
        { name: 'everyone', issuer: 'gh', claims: {}, credential: 'dd-prod', allowAnyTenant: true },
      ],
    }),
  });
  try {
    assert.ok(
      a.logs.some(
        (l) => /identity\.grants\[0\]\.credential: grant dashboards-bot names dd-prod, which is not in the vault/.test(l) && l.includes('"level":40'),
      ),
      a.logs.join('\n'),
    );
    const c = await a.cli(['check-config', '--state-dir', a.stateDir]);
    assert.equal(c.code, 0, c.stdout);
    assert.match(c.stdout, /warning: identity\.grants\[0\]\.credential: grant dashboards-bot names dd-prod, which is not in the vault/);
    const strict = await a.cli(['check-config', '--strict', '--state-dir', a.stateDir]);
    assert.equal(strict.code, 2);
  } finally {
    await a.cleanup();
  }
});

test('serve on a busy port fails naming the address and creates no CA, signing key or state', async () => {
  const busy = net.createServer();
  await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
  const port = (busy.address() as net.AddressInfo).port;
  try {
    const cfg = config('busy', { identity: { issuers: [], grants: [] } });
    const r = await runCli(['serve', '--config', cfg, '--listen', `127.0.0.1:${port}`]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`^airlock: LISTEN_FAILED: cannot listen on 127\\.0\\.0\\.1:${port} \\(--listen / listen\\): the address is in use`));
    const state = join(tmp, 'busy-state');
    assert.deepEqual(existsSync(state) ? readdirSync(state, { recursive: true }) : [], [], 'no CA, no signing key, no vault, no sessions');
  } finally {
    busy.close();
  }
});

test('serve with its admin listener on a busy port fails naming admin.listen and creates nothing', async () => {
  const busy = net.createServer();
  await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
  const port = (busy.address() as net.AddressInfo).port;
  try {
    const cfg = config('busy-admin', { identity: { issuers: [], grants: [] }, admin: { listen: `127.0.0.1:${port}` } });
    const r = await runCli(['serve', '--config', cfg]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`^airlock: LISTEN_FAILED: cannot listen on 127\\.0\\.0\\.1:${port} \\(admin\\.listen\\): the address is in use`));
    const state = join(tmp, 'busy-admin-state');
    assert.deepEqual(existsSync(state) ? readdirSync(state, { recursive: true }) : [], [], 'no CA, no signing key, no vault, no sessions');
  } finally {
    busy.close();
  }
});

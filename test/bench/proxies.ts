// Starts each process under test as its own child, so that its CPU time and RSS can be read
// from /proc: the upstream, a bare http-mitm-proxy, `airlock serve`, and mitmdump.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, existsSync, rmSync, openSync, closeSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { stringify } from 'yaml';
import { CLI, runCli } from '../fixtures/airlock-process.js';
import { startIssuer, type Issuer } from '../fixtures/oidc-issuer.js';
import { freePort } from '../fixtures/free-port.js';
import { waitFor } from '../fixtures/wait-for.js';
export { freePort };

const HERE = import.meta.dirname;

export interface Child {
  readonly pid: number;
  readonly proc: ChildProcess;
  stop(): Promise<void>;
}

function stopper(proc: ChildProcess, signal: NodeJS.Signals = 'SIGTERM', graceMs = 15_000): () => Promise<void> {
  return () =>
    new Promise<void>((done) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return done();
      const t = setTimeout(() => proc.kill('SIGKILL'), graceMs);
      proc.once('exit', () => {
        clearTimeout(t);
        done();
      });
      proc.kill(signal);
    });
}

/** Spawns a node script that prints one JSON line when ready. */
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- T names the shape of that line
function spawnReady<T>(script: string, env: NodeJS.ProcessEnv, timeoutMs = 60_000, nodeArgs: readonly string[] = []): Promise<{ info: T; child: Child }> {
  const proc = spawn(process.execPath, [...nodeArgs, script], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  proc.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
  return new Promise((resolveReady, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`${script} did not start: ${err}`)), timeoutMs);
    proc.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      const i = buf.indexOf('\n');
      if (i < 0) return;
      clearTimeout(timer);
      proc.stdout.removeAllListeners('data');
      proc.stdout.resume();
      resolveReady({ info: JSON.parse(buf.slice(0, i)) as T, child: { pid: proc.pid!, proc, stop: stopper(proc) } });
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited with ${code}: ${err}`));
    });
  });
}

export interface Upstream extends Child {
  readonly port: number;
  readonly caPem: string;
  readonly caFile: string;
  readonly apiKey: string;
}

export async function startUpstream(dir: string): Promise<Upstream> {
  const apiKey = `ddapi${randomBytes(16).toString('hex')}`;
  const { info, child } = await spawnReady<{ port: number; caPem: string }>(join(HERE, 'upstream-server.js'), { BENCH_API_KEY: apiKey });
  const caFile = join(dir, 'upstream-ca.pem');
  writeFileSync(caFile, info.caPem);
  return { ...child, port: info.port, caPem: info.caPem, caFile, apiKey };
}

/** A proxy under test: where to send CONNECT, what to trust, what to authenticate with. */
export interface ProxyProcess extends Child {
  readonly port: number;
  readonly caPem: string;
}

/** `nodeArgs` (e.g. --cpu-prof): profiles of the baseline, to set beside Airlock's. */
export async function startBareMitm(dir: string, up: Upstream, nodeArgs: readonly string[] = []): Promise<ProxyProcess> {
  const caDir = join(dir, 'http-mitm-proxy');
  const { info, child } = await spawnReady<{ port: number }>(
    join(HERE, 'mitm-bare-server.js'),
    {
      BENCH_UPSTREAM_PORT: String(up.port),
      BENCH_UPSTREAM_CA: up.caFile,
      BENCH_CA_DIR: caDir,
    },
    60_000,
    nodeArgs,
  );
  return { ...child, port: info.port, caPem: readFileSync(join(caDir, 'certs', 'ca.pem'), 'utf8') };
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((done) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      done(true);
    });
    s.once('error', () => done(false));
  });
}

/** Resolves once `ok`; a process that exits first fails at once instead of waiting out the timeout. */
function untilReady(what: string, ok: () => boolean | Promise<boolean>, timeoutMs: number, alive: () => boolean): Promise<true> {
  return waitFor(
    what,
    async () => {
      if (await ok()) return true;
      if (!alive()) throw new Error(`${what}: the process exited`);
      return undefined;
    },
    timeoutMs,
    50,
  );
}

export function mitmdumpPath(): string | null {
  try {
    return execFileSync('sh', ['-c', 'command -v mitmdump'], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}

const PIN_ADDON = `# Dial the bench upstream for every host (SNI and certificate checks keep the host's name).
import os
PORT = int(os.environ["BENCH_UPSTREAM_PORT"])

class Pin:
    def server_connect(self, data):
        data.server.address = ("127.0.0.1", PORT)

addons = [Pin()]
`;

export async function startMitmdump(dir: string, up: Upstream, bin: string): Promise<ProxyProcess> {
  const confdir = join(dir, 'mitmproxy');
  const addon = join(dir, 'pin_upstream.py');
  writeFileSync(addon, PIN_ADDON);
  const port = await freePort();
  const log = openSync(join(dir, 'mitmdump.log'), 'a');
  const proc = spawn(
    bin,
    [
      '-q',
      '--listen-host',
      '127.0.0.1',
      '--listen-port',
      String(port),
      '--set',
      `confdir=${confdir}`,
      '--set',
      `ssl_verify_upstream_trusted_ca=${up.caFile}`,
      // By default mitmproxy holds a whole body in memory before sending it on: stream past 1 MB,
      // as anyone proxying large bodies through it would configure.
      '--set',
      'stream_large_bodies=1m',
      '-s',
      addon,
    ],
    { env: { ...process.env, BENCH_UPSTREAM_PORT: String(up.port) }, stdio: ['ignore', log, log] },
  );
  closeSync(log);
  const alive = (): boolean => proc.exitCode === null && proc.signalCode === null;
  const caFile = join(confdir, 'mitmproxy-ca-cert.pem');
  await untilReady('mitmdump', async () => existsSync(caFile) && (await canConnect(port)), 60_000, alive);
  return { pid: proc.pid!, proc, stop: stopper(proc, 'SIGINT'), port, caPem: readFileSync(caFile, 'utf8') };
}

export interface AirlockProcess extends ProxyProcess {
  readonly issuer: Issuer;
  readonly jwt: string;
  readonly stateDir: string;
  readonly logFile: string;
}

export interface AirlockStart {
  /** Intercepted hosts pinned to the upstream besides api.datadoghq.com. */
  readonly extraHosts: readonly string[];
  /** node flags for the airlock process, e.g. --cpu-prof. */
  readonly nodeArgs?: readonly string[];
  /** Another build's dist/appliance/cli.js (ab.ts compares two builds); this build's by default. */
  readonly cli?: string;
}

export async function startAirlock(dir: string, up: Upstream, opts: AirlockStart): Promise<AirlockProcess> {
  const home = mkdtempSync(join(dir, 'airlock-'));
  const stateDir = join(home, 'state');
  const issuer = await startIssuer();
  const pinned = `127.0.0.1:${up.port}`;
  const resolveMap: Record<string, string> = { 'api.datadoghq.com': pinned };
  for (const h of opts.extraHosts) resolveMap[h] = pinned;
  const port = await freePort();
  const config = {
    listen: `127.0.0.1:${port}`,
    stateDir,
    intercept: { datadogSites: ['datadoghq.com'], hosts: [] },
    passthrough: 'allow',
    upstream: { resolve: resolveMap, caFile: up.caFile },
    identity: {
      issuers: [{ name: 'github', issuer: issuer.url, audience: 'airlock', algorithms: ['RS256'] }],
      grants: [{ name: 'bench', issuer: 'github', claims: { repository_id: '123456', ref: 'refs/heads/main' }, credential: 'dd-bench' }],
    },
    sessions: { idleTimeout: '15m' },
    // An OS-chosen port: the paired builds (and other benches on the machine) would share 9464.
    admin: { listen: '127.0.0.1:0' },
  };
  const configPath = join(home, 'airlock.yaml');
  writeFileSync(configPath, stringify(config));
  const apiFile = join(home, 'api.key');
  const appFile = join(home, 'app.key');
  writeFileSync(apiFile, `${up.apiKey}\n`, { mode: 0o600 });
  writeFileSync(appFile, `ddapp${randomBytes(20).toString('hex')}\n`, { mode: 0o600 });
  const put = await runCli(['vault', 'put', 'dd-bench', '--api-key-file', apiFile, '--app-key-file', appFile, '--config', configPath]);
  rmSync(apiFile);
  rmSync(appFile);
  if (put.code !== 0) throw new Error(`airlock vault put failed: ${put.stderr}`);

  // Logs go to a file, as they would go to journald: the bench does not pay for reading them.
  const logFile = join(home, 'airlock.log');
  const log = openSync(logFile, 'a');
  const proc = spawn(process.execPath, [...(opts.nodeArgs ?? []), opts.cli ?? CLI, 'serve', '--config', configPath], {
    stdio: ['ignore', log, log],
    cwd: home,
  });
  closeSync(log);
  const alive = (): boolean => proc.exitCode === null && proc.signalCode === null;
  await untilReady('airlock', () => existsSync(logFile) && readFileSync(logFile, 'utf8').includes('airlock listening on'), 30_000, alive).catch(
    (err: unknown) => {
      proc.kill('SIGKILL');
      throw new Error(`${(err as Error).message}\n${existsSync(logFile) ? readFileSync(logFile, 'utf8').slice(-2000) : ''}`);
    },
  );
  const jwt = await issuer.mint({}, { expiresIn: 3600 });
  const stopProc = stopper(proc);
  return {
    pid: proc.pid!,
    proc,
    port,
    caPem: readFileSync(join(stateDir, 'ca', 'ca.crt'), 'utf8'),
    issuer,
    jwt,
    stateDir,
    logFile,
    async stop() {
      await stopProc();
      await issuer.close();
    },
  };
}

export type LoginResult = { readonly token: string } | { readonly skipped: string };

/**
 * Exchanges the JWT for a session token at POST /.airlock/v1/login (issue 3): the JWT as a
 * Bearer Authorization, body {}; takes the first `alk_` token in the answer. Anything else means
 * the endpoint is not there (or refused), and the scenario is skipped with the reason.
 */
export async function trySessionLogin(port: number, jwt: string): Promise<LoginResult> {
  const skipped = 'skipped: session tokens not available (issue 3)';
  try {
    const res = await fetch(`http://127.0.0.1:${port}/.airlock/v1/login`, {
      method: 'POST',
      headers: { authorization: `Bearer ${jwt}`, 'content-type': 'application/json' },
      body: '{}',
    });
    const text = await res.text();
    const m = /alk_[A-Za-z0-9_-]{20,}/.exec(text);
    if (res.ok && m) return { token: m[0] };
    return { skipped: `${skipped}: login answered ${res.status} ${text.slice(0, 200)}` };
  } catch (err) {
    return { skipped: `${skipped}: ${(err as Error).message}` };
  }
}

export const BENCH_DIR_PREFIX = join(tmpdir(), 'airlock-bench-');
export const REPO_ROOT = resolve(HERE, '../../..');

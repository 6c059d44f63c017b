// Finding 4 of issue #11: passthrough must not be a blind way to Datadog. Raw CONNECTs and raw
// ClientHellos only. Nothing here dials a non-loopback address: the in-process server gets an
// injected lookup (names -> made-up public addresses) and an injected dial that records where the
// proxy would have gone and then connects to a loopback echo server instead.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net, { type AddressInfo, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { configSchema } from '../../appliance/config/schema.js';
import { createLogger } from '../../appliance/log.js';
import { startServer, type RunningServer } from '../../appliance/server.js';
import { startAirlock, type Airlock } from '../fixtures/airlock-process.js';
import { assertNoSecrets, assertRefusal, parseResponses, rawConnect, sendRaw, type HttpResult } from '../fixtures/refusal-helpers.js';
import { waitFor } from '../fixtures/wait-for.js';
import { openRawTunnel, rawTlsExchange } from '../fixtures/raw-tls.js';

// What api.datadoghq.com "resolves" to in the in-process tests (a made-up public address).
const DD_V4 = '3.233.146.10';
const DD_V6 = '2600:1f18::1';
const TRACE_V4 = '3.233.146.20';
const ORIGIN_V4 = '93.184.215.14';

/** A loopback TCP server that echoes: the stand-in for every address the proxy "dials". */
async function startEcho(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => s.destroy());
    s.pipe(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** A loopback TCP relay whose target port is set later (the fake Datadog's, known only after start). */
async function startRelay(): Promise<{ port: number; target: { port: number }; close(): Promise<void> }> {
  const target = { port: 0 };
  const sockets = new Set<Socket>();
  const server = net.createServer((s) => {
    const u = net.connect(target.port, '127.0.0.1');
    for (const x of [s, u]) {
      sockets.add(x);
      x.on('close', () => sockets.delete(x));
      x.on('error', () => {
        s.destroy();
        u.destroy();
      });
    }
    s.pipe(u).pipe(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    target,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** Sends a raw CONNECT and returns the first response head, leaving nothing open. */
function connectHead(port: number, target: string): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`));
    let got = '';
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`no answer to CONNECT ${target}`));
    }, 5_000);
    s.on('data', (c: Buffer) => {
      got += c.toString('latin1');
      if (!got.includes('\r\n\r\n')) return;
      clearTimeout(timer);
      s.destroy();
      resolve(parseResponses(got.slice(0, got.indexOf('\r\n\r\n') + 4)));
    });
    s.on('error', reject);
  });
}

/** A TLS 1.2 ClientHello record with `servername` in its SNI, written by hand (Node sends no SNI for an IP). */
function clientHello(servername: string): Buffer {
  const u16 = (n: number): Buffer => Buffer.from([n >> 8, n & 0xff]);
  const u24 = (n: number): Buffer => Buffer.from([n >> 16, (n >> 8) & 0xff, n & 0xff]);
  const name = Buffer.from(servername, 'ascii');
  const entry = Buffer.concat([Buffer.from([0]), u16(name.length), name]);
  const list = Buffer.concat([u16(entry.length), entry]);
  const ext = Buffer.concat([u16(0), u16(list.length), list]);
  const body = Buffer.concat([
    Buffer.from([3, 3]),
    Buffer.alloc(32, 7),
    Buffer.from([0]),
    u16(2),
    Buffer.from([0x13, 0x01]),
    Buffer.from([1, 0]),
    u16(ext.length),
    ext,
  ]);
  const hs = Buffer.concat([Buffer.from([1]), u24(body.length), body]);
  return Buffer.concat([Buffer.from([0x16, 3, 1]), u16(hs.length), hs]);
}

describe('passthrough: allow, in process, with an injected resolver and dialler', () => {
  let dir: string;
  let server: RunningServer;
  let echo: Awaited<ReturnType<typeof startEcho>>;
  let tport = 0;
  const dials: string[] = [];
  const logs: string[] = [];
  const names: Record<string, string> = {
    'api.datadoghq.com': DD_V4,
    'api.datadoghq.eu': DD_V6,
    'trace.agent.datadoghq.com': TRACE_V4,
    'dd-alias.example': DD_V4,
    'trace-alias.example': TRACE_V4,
    'v6-alias.example': '2600:1f18:0:0:0:0:0:1',
    'mapped-alias.example': `::ffff:${DD_V4}`,
    'origin.example': ORIGIN_V4,
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'airlock-passthrough-'));
    echo = await startEcho();
    const config = configSchema.parse({
      listen: '127.0.0.1:0',
      stateDir: join(dir, 'state'),
      passthrough: 'allow',
      transparent: { listen: '127.0.0.1:0' },
      upstream: { resolve: { 'pinned.example': `${DD_V4}:443` } },
    });
    const destination = new Writable({
      write(chunk: Buffer, _enc, cb) {
        logs.push(...chunk.toString('utf8').split('\n').filter(Boolean));
        cb();
      },
    });
    server = await startServer(config, {
      log: createLogger({ level: 'debug', destination }),
      // getaddrinfo's view: the odd IPv4 spellings are addresses to it (as the WHATWG parser says).
      lookup: async (host) => {
        const known = names[host];
        if (known) return { address: known, family: net.isIP(known) };
        let parsed = '';
        try {
          parsed = new URL(`http://${host}/`).hostname;
        } catch {
          // not a URL host at all
        }
        if (net.isIPv4(parsed)) return { address: parsed, family: 4 };
        throw Object.assign(new Error(`ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
      },
      dial: (to) => {
        dials.push(to.host);
        return net.connect(echo.port, '127.0.0.1');
      },
    });
    const line = await waitFor('the transparent listener', () => logs.find((l) => l.includes('transparent TLS listener on')));
    tport = (JSON.parse(line) as { port: number }).port;
    // The start-up resolution of the sites' api hosts runs in the background (injected: instant).
    await new Promise((r) => setTimeout(r, 200));
  });
  after(async () => {
    await server?.close();
    await echo?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function expectBlocked(target: string): Promise<void> {
    const before = dials.length;
    const r = await rawConnect(server.port, target);
    assert.deepEqual(dials.slice(before), [], `CONNECT ${target}: a dial was attempted`);
    assertRefusal(r, 403, 'DESTINATION_BLOCKED');
    const host = target
      .replace(/:\d+$/, '')
      .replace(/^\[|\]$/g, '')
      .toLowerCase()
      .replace(/\.$/, '');
    await waitFor(`the refusal of ${target} in the log`, () =>
      logs.find((l) => l.includes('"code":"DESTINATION_BLOCKED"') && l.includes(`"target":"${host}:`)),
    );
  }

  test('CONNECT to an IPv4 literal is refused with 403 DESTINATION_BLOCKED and nothing is dialled', async () => {
    await expectBlocked(`${DD_V4}:443`);
    await expectBlocked(`${DD_V4}.:443`);
  });

  test('CONNECT to a bracketed IPv6 literal is refused with 403 DESTINATION_BLOCKED and nothing is dialled', async () => {
    await expectBlocked(`[${DD_V6}]:443`);
    await expectBlocked('[::ffff:3.233.146.10]:443');
  });

  test('CONNECT to decimal, hex, octal and short IPv4 spellings is refused with 403 DESTINATION_BLOCKED and nothing is dialled', async () => {
    // 3.233.146.10 as inet_aton and the URL standard accept it.
    for (const spelling of ['65638922', '0x3e9920a', '0x3.0xe9.0x92.0xa', '03.0351.0222.012', '3.233.37386', '3.15307018', '0x3.233.146.0xA']) {
      await expectBlocked(`${spelling}:443`);
    }
  });

  test("CONNECT to another name for an intercepted host's address is refused with 403 DESTINATION_BLOCKED and nothing is dialled", async () => {
    // api.datadoghq.com's address is known from start; trace.agent's once it has been intercepted.
    await expectBlocked('dd-alias.example:443');
    await expectBlocked('mapped-alias.example:443');
    await expectBlocked('v6-alias.example:443');
    const r = await connectHead(server.port, 'trace.agent.datadoghq.com:443');
    assert.equal(r.status, 200, 'the intercepted host itself is intercepted');
    await expectBlocked('trace-alias.example:443');
  });

  test('a transparent connection whose SNI is an IP literal or an alias is closed and nothing is dialled', async () => {
    const before = dials.length;
    for (const sni of [DD_V4, '65638922', 'dd-alias.example']) {
      await sendRaw(tport, clientHello(sni), 3_000);
      assert.deepEqual(dials.slice(before), [], `SNI ${sni}: a dial was attempted`);
      await waitFor(`the refusal of SNI ${sni} in the log`, () =>
        logs.find((l) => l.includes('"code":"DESTINATION_BLOCKED"') && l.includes(`"target":"${sni}:443"`) && l.includes('"transparent":true')),
      );
    }
  });

  test('an ordinary passthrough host is still tunnelled to its address, and bytes flow both ways', async () => {
    const before = dials.length;
    const text = await new Promise<string>((resolve, reject) => {
      const s = net.connect(server.port, '127.0.0.1', () => s.write('CONNECT origin.example:443 HTTP/1.1\r\nHost: origin.example:443\r\n\r\n'));
      let got = '';
      s.on('data', (c: Buffer) => {
        got += c.toString('latin1');
        if (got.endsWith('\r\n\r\n') && !got.includes('ping')) s.write('ping');
        if (got.includes('ping')) {
          s.destroy();
          resolve(got);
        }
      });
      s.on('error', reject);
      setTimeout(() => reject(new Error(`tunnel timed out: ${got}`)), 5_000).unref();
    });
    assert.match(text, /^HTTP\/1\.1 200 /);
    assert.deepEqual(dials.slice(before), [ORIGIN_V4]);
  });

  test("a host pinned in upstream.resolve is tunnelled even to an intercepted host's address: pins are the operator's word", async () => {
    const before = dials.length;
    const r = await connectHead(server.port, 'pinned.example:443');
    assert.equal(r.status, 200);
    await waitFor('the pinned dial', () => (dials.length > before ? true : undefined));
    assert.deepEqual(dials.slice(before), [DD_V4]);
  });
});

// The api host of every default site is pinned (to a relay to the fake Datadog) so the start-up
// resolution never asks real DNS.
const DEFAULT_API_HOSTS = [
  'datadoghq.com',
  'us3.datadoghq.com',
  'us5.datadoghq.com',
  'ap1.datadoghq.com',
  'ap2.datadoghq.com',
  'uk1.datadoghq.com',
  'datadoghq.eu',
  'ddog-gov.com',
  'us2.ddog-gov.com',
].map((s) => `api.${s}`);

describe('the default config (no passthrough or intercept settings)', () => {
  let a: Airlock;
  let relay: Awaited<ReturnType<typeof startRelay>>;
  let echo: Awaited<ReturnType<typeof startEcho>>;
  let ca: string;

  before(async () => {
    relay = await startRelay();
    echo = await startEcho();
    const pins: Record<string, string> = { 'example.org': `127.0.0.1:${echo.port}`, 'rum.browser-intake-datadoghq.com': `127.0.0.1:${relay.port}` };
    for (const h of DEFAULT_API_HOSTS) pins[h] = `127.0.0.1:${relay.port}`;
    // undefined drops the fixture's own passthrough: allow and datadogSites from the YAML.
    a = await startAirlock({ config: { passthrough: undefined, intercept: undefined }, extraResolve: pins });
    relay.target.port = a.datadog.port;
    ca = readFileSync(a.caPath, 'utf8');
  });
  after(async () => {
    await a?.cleanup();
    await relay?.close();
    await echo?.close();
  });

  test('CONNECT example.org:443 is refused with 403 PASSTHROUGH_DENIED and nothing is tunnelled', async () => {
    const r = await rawConnect(a.port, 'example.org:443');
    assertRefusal(r, 403, 'PASSTHROUGH_DENIED');
    await waitFor('the refusal in the log', () => a.logs.find((l) => l.includes('"code":"PASSTHROUGH_DENIED"') && l.includes('"target":"example.org:443"')));
  });

  test("CONNECT api.datadoghq.eu:443 is intercepted: Airlock's certificate, the vaulted key upstream, the exchange recorded", async () => {
    const token = await a.issuer.mint({ repository_id: '123456', ref: 'refs/heads/main' });
    const agentKey = '0123456789abcdef0123456789abcdef';
    const before = a.datadog.received.length;
    const text = await rawTlsExchange({
      port: a.port,
      ca,
      connect: 'api.datadoghq.eu:443',
      proxyAuth: `Bearer ${token}`,
      request: `GET /api/v1/validate HTTP/1.1\r\nHost: api.datadoghq.eu\r\nDD-API-KEY: ${agentKey}\r\nConnection: close\r\n\r\n`,
    });
    const r = parseResponses(text);
    assert.equal(r.status, 200, text);
    const got = a.datadog.received.slice(before);
    assert.equal(got.length, 1);
    assert.equal(got[0]!.headers['dd-api-key'], a.apiKey);
    assert.ok(!JSON.stringify(got[0]!.rawHeaders).includes(agentKey), 'the agent key did not reach Datadog');
    assertNoSecrets(a, [token], [text]);
    const sessions = JSON.parse((await a.cli(['sessions', 'ls', '--json'])).stdout) as Array<{ id: string }>;
    assert.equal(sessions.length, 1);
    const exported = await a.cli(['sessions', 'export', sessions[0]!.id]);
    assert.equal(exported.code, 0, exported.stderr);
    const har = JSON.parse(exported.stdout) as { log: { entries: Array<{ request: { url: string }; response: { status: number } }> } };
    assert.deepEqual(
      har.log.entries.map((e) => [e.request.url, e.response.status]),
      [['https://api.datadoghq.eu/api/v1/validate', 200]],
    );
    assert.ok(!exported.stdout.includes(agentKey), 'the agent key is not in the HAR');
    assertNoSecrets(a, [token], [exported.stdout]);
  });

  test('the browser intake, outside its site, is intercepted: a request without a token is refused inside the tunnel with 407 TOKEN_MISSING', async () => {
    const before = a.datadog.received.length;
    const t = await openRawTunnel({ port: a.port, ca, connect: 'rum.browser-intake-datadoghq.com:443' });
    t.socket.write('POST /api/v2/rum HTTP/1.1\r\nHost: rum.browser-intake-datadoghq.com\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}');
    const r = parseResponses((await t.closed()).toString('latin1'));
    t.end();
    assertRefusal(r, 407, 'TOKEN_MISSING');
    assert.equal(a.datadog.received.length, before);
  });

  test('check-config lists every intercepted Datadog site', async () => {
    const r = await a.cli(['check-config']);
    assert.equal(r.code, 0, r.stderr);
    for (const site of [
      'datadoghq.com',
      'datadoghq.eu',
      'ddog-gov.com',
      'us3.datadoghq.com',
      'ap2.datadoghq.com',
      'uk1.datadoghq.com',
      'us2.ddog-gov.com',
      'browser-intake-datadoghq.com',
    ]) {
      assert.match(r.stdout, new RegExp(`\\b${site.replaceAll('.', '\\.')}\\b`), site);
    }
  });

  test('after the refusals a normal request still works', async () => {
    const token = await a.issuer.mint({ repository_id: '123456', ref: 'refs/heads/main' });
    const text = await rawTlsExchange({
      port: a.port,
      ca,
      proxyAuth: `Bearer ${token}`,
      request: 'GET /api/v1/validate HTTP/1.1\r\nHost: api.datadoghq.com\r\nConnection: close\r\n\r\n',
    });
    assert.equal(parseResponses(text).status, 200, text);
  });
});

describe('a state dir whose CA predates a configured site', () => {
  let a: Airlock;
  let relay: Awaited<ReturnType<typeof startRelay>>;

  before(async () => {
    relay = await startRelay();
    // The fixture's config intercepts datadoghq.com only: that is what the CA is made for.
    a = await startAirlock();
    relay.target.port = a.datadog.port;
  });
  after(async () => {
    await a?.cleanup();
    await relay?.close();
  });

  test('serve refuses to start with CA_CONSTRAINTS naming the site and `airlock ca init --force`; after it, the site is intercepted', async () => {
    await a.stop();
    const config = parse(readFileSync(a.configPath, 'utf8')) as Record<string, unknown> & { upstream: { resolve: Record<string, string> } };
    delete config['intercept'];
    for (const h of DEFAULT_API_HOSTS) config.upstream.resolve[h] ??= `127.0.0.1:${relay.port}`;
    writeFileSync(a.configPath, stringify(config));
    await assert.rejects(a.start(), (err: Error) => {
      assert.match(err.message, /CA_CONSTRAINTS/);
      assert.match(err.message, /datadoghq\.eu/);
      assert.match(err.message, /airlock ca init --force/);
      return true;
    });
    const init = await a.cli(['ca', 'init', '--force']);
    assert.equal(init.code, 0, init.stderr);
    await a.start();
    const token = await a.issuer.mint({ repository_id: '123456', ref: 'refs/heads/main' });
    const text = await rawTlsExchange({
      port: a.port,
      ca: readFileSync(a.caPath, 'utf8'),
      connect: 'api.datadoghq.eu:443',
      proxyAuth: `Bearer ${token}`,
      request: 'GET /api/v1/validate HTTP/1.1\r\nHost: api.datadoghq.eu\r\nConnection: close\r\n\r\n',
    });
    assert.equal(parseResponses(text).status, 200, text);
  });
});

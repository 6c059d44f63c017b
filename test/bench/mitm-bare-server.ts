// The baseline: http-mitm-proxy as its README sets it up, with keepAlive and forceSNI and no
// handlers, run as its own process. The only addition is an https.Agent that trusts the bench
// upstream's CA and dials it for every host, as Airlock's upstream.resolve does.
// Env: BENCH_UPSTREAM_PORT, BENCH_UPSTREAM_CA (a file), BENCH_CA_DIR. Prints {"port":N} once listening.
import https from 'node:https';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import { readFileSync } from 'node:fs';
import { Proxy } from 'http-mitm-proxy';

const upstreamPort = Number(process.env['BENCH_UPSTREAM_PORT']);
const upstreamCa = readFileSync(process.env['BENCH_UPSTREAM_CA'] ?? '', 'utf8');

class PinnedAgent extends https.Agent {
  // Dial the bench upstream for every host; SNI and certificate checks still use the host's name.
  override createConnection(options: tls.ConnectionOptions, cb?: (err: Error | null, s: Duplex) => void): Duplex {
    const servername = options.servername || options.host || undefined;
    const create = (https.Agent.prototype as unknown as { createConnection: (o: tls.ConnectionOptions, c?: unknown) => Duplex }).createConnection;
    return create.call(this, { ...options, host: '127.0.0.1', port: upstreamPort, ...(servername ? { servername } : {}) }, cb);
  }
}

// Quiet: the library logs every new host and every socket error with console.*.
console.debug = () => undefined;
console.info = () => undefined;

const proxy = new Proxy();
proxy.onError(() => undefined);
proxy.listen(
  {
    host: '127.0.0.1',
    port: 0,
    keepAlive: true,
    forceSNI: true,
    sslCaDir: process.env['BENCH_CA_DIR'] ?? '',
    // The same trust as Airlock's agent (system roots + the upstream's CA), as one context.
    httpsAgent: new PinnedAgent({ keepAlive: true, secureContext: tls.createSecureContext({ ca: [...tls.rootCertificates, upstreamCa] }) }),
  },
  (err?: Error | null) => {
    if (err) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    process.stdout.write(`${JSON.stringify({ port: proxy.httpPort })}\n`);
  },
);
process.on('SIGTERM', () => process.exit(0));

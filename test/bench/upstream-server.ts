// The bench's upstream, run as its own process: HTTPS on 127.0.0.1 shaped like Datadog (its
// auth rule and small JSON answers) and a large-body endpoint (uncoded, or coded: coded-body.ts). Lighter than the test fixture:
// it keeps nothing of what it receives. Prints {"port":N,"caPem":"..."} once listening.
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { createCa } from '../../certs/create-ca.js';
import { LeafIssuer, sniCallbackFor } from '../../certs/leaf-issuer.js';
import { streamBytes } from '../fixtures/stream-bytes.js';
import { BENCH_CODINGS, codedBody, sendCoded, type BenchCoding } from './coded-body.js';

const apiKey = process.env['BENCH_API_KEY'] ?? '';
const ca = createCa({ permittedDomains: ['datadoghq.com'], validityMs: 24 * 3_600_000, commonName: 'Airlock Bench Upstream CA' });
const leaves = new LeafIssuer(ca);
const VALID = Buffer.from('{"valid":true}');
const FORBIDDEN = Buffer.from('{"errors":["Forbidden"]}');
const NOT_FOUND = Buffer.from('{"errors":["Not found"]}');
// Counted for the report: a proxy that does not keep its upstream connections alive shows here.
let tlsConnections = 0;
let requests = 0;

const server = https.createServer({ SNICallback: sniCallbackFor(leaves) }, (req, res) => {
  req.resume();
  req.on('end', () => {
    const send = (status: number, body: Buffer): void => {
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': body.length });
      res.end(body);
    };
    if (req.url === '/__stats') return send(200, Buffer.from(JSON.stringify({ tlsConnections, requests })));
    requests++;
    if (req.headers['dd-api-key'] !== apiKey) return send(403, FORBIDDEN);
    const url = req.url ?? '/';
    if (url === '/api/v1/validate') return send(200, VALID);
    if (url.startsWith('/big?')) {
      const q = new URLSearchParams(url.slice('/big?'.length));
      const n = Math.min(Number(q.get('bytes')) || 0, 1024 * 1024 * 1024);
      const coding = q.get('coding');
      if (coding !== null) {
        if (!(BENCH_CODINGS as readonly string[]).includes(coding)) return send(404, NOT_FOUND);
        codedBody(coding as BenchCoding, n).then(
          (coded) => sendCoded(res, coding as BenchCoding, coded),
          () => send(500, Buffer.from('{"errors":["compression failed"]}')),
        );
        return;
      }
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': n });
      return streamBytes(res, n);
    }
    return send(404, NOT_FOUND);
  });
});
server.on('secureConnection', () => tlsConnections++);
server.keepAliveTimeout = 120_000;
server.headersTimeout = 130_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port, caPem: ca.certPem })}\n`);
});
process.on('SIGTERM', () => process.exit(0));

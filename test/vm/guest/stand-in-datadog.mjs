// A stand-in for Datadog's API inside the test VM: HTTPS on the given addresses (non-loopback
// guest addresses on a dummy interface), a certificate from a throwaway CA made by checks.sh.
// Every request's method, path, address it arrived on and its DD-API-KEY go to RECEIVED_FILE as
// one JSON line: the witness of what reached "Datadog".
// usage: node stand-in-datadog.mjs CERT KEY RECEIVED_FILE ADDR...
import https from 'node:https';
import { appendFileSync, readFileSync } from 'node:fs';

const [cert, key, received, ...addrs] = process.argv.slice(2);
if (!cert || !key || !received || addrs.length === 0) {
  process.stderr.write('usage: stand-in-datadog.mjs CERT KEY RECEIVED_FILE ADDR...\n');
  process.exit(2);
}
const tls = { cert: readFileSync(cert), key: readFileSync(key) };
let listening = 0;
for (const addr of addrs) {
  const server = https.createServer(tls, (req, res) => {
    appendFileSync(
      received,
      `${JSON.stringify({ method: req.method, path: req.url, local: req.socket.localAddress, apiKey: req.headers['dd-api-key'] ?? null })}\n`,
    );
    const body = JSON.stringify({ valid: true });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  server.listen(443, addr, () => {
    if (++listening === addrs.length) process.stdout.write('listening\n');
  });
}

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, get, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import forge from 'node-forge';
import type { CaMaterial } from '../../certs/ca-material.js';
import { createCa } from '../../certs/create-ca.js';
import { LeafIssuer, sniCallbackFor } from '../../certs/leaf-issuer.js';

// Real clients against leaves from LeafIssuer (a P-256 key under the RSA CA): openssl
// (x509_strict), curl (also TLS 1.2-only), Debian's Python with VERIFY_X509_STRICT (3.13's
// default), and Node's tls. A forged leaf for a host outside the name
// constraints, signed by the same CA key, must be refused by all of them.

const HOST = 'api.datadoghq.com';
const EVIL = 'evil.example.org';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 20_000, env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' } }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/** A leaf for `host` signed with the CA's key, as someone holding a leaked key would make it. */
function forgeLeaf(ca: CaMaterial, host: string, ipSan?: string): { certPem: string; keyPem: string } {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const leafKey = forge.pki.privateKeyFromPem(keyPem);
  const caCert = forge.pki.certificateFromPem(ca.certPem);
  const caSki = (caCert.getExtension('subjectKeyIdentifier') as { subjectKeyIdentifier: string }).subjectKeyIdentifier;
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.setRsaPublicKey(leafKey.n, leafKey.e);
  cert.serialNumber = '1234567890abcdef1234567890abcdef';
  cert.validity.notBefore = new Date(Date.now() - 3_600_000);
  cert.validity.notAfter = new Date(Date.now() + 7 * 86_400_000);
  cert.setSubject([{ shortName: 'CN', value: host }]);
  cert.setIssuer(caCert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', critical: true, digitalSignature: true, keyEncipherment: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames: ipSan ? [{ type: 7, ip: ipSan }] : [{ type: 2, value: host }] },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: forge.util.hexToBytes(caSki) },
  ]);
  cert.sign(forge.pki.privateKeyFromPem(ca.keyPem), forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem };
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

const PY_CLIENT = `
import socket, ssl, sys
port, cafile, name = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ctx = ssl.create_default_context(cafile=cafile)
ctx.verify_flags |= ssl.VERIFY_X509_STRICT
with socket.create_connection(('127.0.0.1', port), timeout=10) as raw:
    with ctx.wrap_socket(raw, server_hostname=name) as s:
        s.sendall(b'GET / HTTP/1.1\\r\\nHost: ' + name.encode() + b'\\r\\nConnection: close\\r\\n\\r\\n')
        data = b''
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
print(data.split(b'\\r\\n')[0].decode())
print(data.split(b'\\r\\n\\r\\n', 1)[1].decode())
`;

let dir = '';
let ca: CaMaterial;
let caFile = '';
let good: Server;
let bad: Server;
let goodPort = 0;
let badPort = 0;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'airlock-certs-'));
  ca = createCa({ permittedDomains: ['datadoghq.com'], validityMs: 365 * 86_400_000 });
  caFile = join(dir, 'ca.crt');
  writeFileSync(caFile, ca.certPem);
  const issuer = new LeafIssuer(ca);
  writeFileSync(join(dir, 'leaf.pem'), issuer.certFor(HOST).certPem);
  good = createServer({ SNICallback: sniCallbackFor(issuer) }, (req, res) => {
    res.setHeader('content-type', 'text/plain');
    res.end(`hello ${req.headers.host ?? ''}`);
  });
  goodPort = await listen(good);

  const evil = forgeLeaf(ca, EVIL);
  writeFileSync(join(dir, 'evil.pem'), evil.certPem);
  writeFileSync(join(dir, 'ip.pem'), forgeLeaf(ca, 'ip', '127.0.0.1').certPem);
  // A forged leaf under a permitted name proves the forging itself is sound, so the evil one's
  // rejection is down to the name constraints alone.
  writeFileSync(join(dir, 'control.pem'), forgeLeaf(ca, 'control.datadoghq.com').certPem);
  bad = createServer({ key: evil.keyPem, cert: evil.certPem }, (_req, res) => res.end('should not be reached'));
  badPort = await listen(bad);
});

after(async () => {
  await Promise.all([good && close(good), bad && close(bad)]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** curl straight to the good server (no proxy), trusting only the CA, plus `extra` options. */
function curlGood(extra: readonly string[]): Promise<Run> {
  return run('curl', [
    '-sS',
    '--fail',
    '--noproxy',
    '*',
    '--max-time',
    '15',
    ...extra,
    '--cacert',
    caFile,
    '--resolve',
    `${HOST}:${goodPort}:127.0.0.1`,
    `https://${HOST}:${goodPort}/`,
  ]);
}

test('openssl verify -x509_strict -purpose sslserver accepts an issued leaf', async () => {
  const r = await run('openssl', ['verify', '-x509_strict', '-purpose', 'sslserver', '-verify_hostname', HOST, '-CAfile', caFile, join(dir, 'leaf.pem')]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /leaf\.pem: OK/);
});

test('openssl verify -x509_strict accepts the CA itself', async () => {
  const r = await run('openssl', ['verify', '-x509_strict', '-CAfile', caFile, caFile]);
  assert.equal(r.code, 0, r.stderr);
});

test('curl with --cacert fetches through the SNI-selected leaf', async () => {
  const r = await curlGood([]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `hello ${HOST}:${goodPort}`);
});

test('a TLS 1.2-only curl negotiates an ECDHE-ECDSA suite with the P-256 leaf', async () => {
  const r = await curlGood(['-v', '--tlsv1.2', '--tls-max', '1.2']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /SSL connection using TLSv1\.2 \/ ECDHE-ECDSA-/);
  assert.equal(r.stdout, `hello ${HOST}:${goodPort}`);
});

test("Node's tls with maxVersion TLSv1.2 verifies the leaf and negotiates ECDHE-ECDSA", async () => {
  const cipher = await new Promise<string>((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port: goodPort, servername: HOST, ca: ca.certPem, maxVersion: 'TLSv1.2' }, () => {
      const c = s.getCipher();
      s.destroy();
      resolve(`${s.authorized ? 'authorized' : 'unauthorized'} ${c.version} ${c.name}`);
    });
    s.on('error', reject);
  });
  assert.match(cipher, /^authorized TLSv1\.2 ECDHE-ECDSA-/);
});

test("Debian's python3 ssl with VERIFY_X509_STRICT and server_hostname accepts the leaf", async () => {
  const r = await run('/usr/bin/python3', ['-c', PY_CLIENT, String(goodPort), caFile, HOST]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^HTTP\/1\.1 200 OK\n/);
  assert.match(r.stdout, new RegExp(`hello ${HOST.replace(/\./g, '\\.')}`));
});

function nodeGet(port: number, servername: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = get({ host: '127.0.0.1', port, servername, ca: ca.certPem, headers: { host: servername }, agent: false, timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

test("Node's https.get with the CA as its only trust anchor accepts the leaf", async () => {
  const r = await nodeGet(goodPort, HOST);
  assert.equal(r.status, 200);
  assert.equal(r.body, `hello ${HOST}`);
});

test('a handshake for a name outside the constraints gets no certificate', async () => {
  await assert.rejects(nodeGet(goodPort, EVIL));
});

test('openssl verify accepts a hand-forged leaf under a permitted name (control)', async () => {
  const r = await run('openssl', ['verify', '-x509_strict', '-purpose', 'sslserver', '-CAfile', caFile, join(dir, 'control.pem')]);
  assert.equal(r.code, 0, r.stderr);
});

test('openssl verify rejects a leaf forged for evil.example.org with the CA key: permitted subtree violation', async () => {
  const r = await run('openssl', ['verify', '-x509_strict', '-purpose', 'sslserver', '-CAfile', caFile, join(dir, 'evil.pem')]);
  assert.notEqual(r.code, 0);
  assert.match(r.stdout + r.stderr, /permitted subtree violation/);
});

test('openssl verify rejects a leaf forged for an IP address: excluded subtree violation', async () => {
  const r = await run('openssl', ['verify', '-x509_strict', '-purpose', 'sslserver', '-CAfile', caFile, join(dir, 'ip.pem')]);
  assert.notEqual(r.code, 0);
  assert.match(r.stdout + r.stderr, /excluded subtree violation/);
});

test('Node and Python refuse a server presenting the forged evil.example.org leaf', async () => {
  await assert.rejects(nodeGet(badPort, EVIL), (err: Error & { code?: string }) => {
    // Node has no code for this OpenSSL verify error (it says UNSPECIFIED); the message is OpenSSL's.
    assert.match(err.message, /permitted subtree violation/);
    return true;
  });
  const py = await run('/usr/bin/python3', ['-c', PY_CLIENT, String(badPort), caFile, EVIL]);
  assert.notEqual(py.code, 0);
  assert.match(py.stderr, /CERTIFICATE_VERIFY_FAILED.*permitted subtree violation/);
});

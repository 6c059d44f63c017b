import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import forge from 'node-forge';
import { caPermits, permittedDomainsOf } from '../../../certs/ca-permits.js';
import { createCa } from '../../../certs/create-ca.js';
import { describeCa } from '../../../certs/describe-ca.js';

const NOW = new Date('2026-03-01T12:00:00Z');
const ca = createCa({
  permittedDomains: ['datadoghq.com', '*.datadoghq.eu', 'intake.example.net'],
  validityMs: 365 * 24 * 3_600_000,
  now: NOW,
  commonName: 'Airlock CA (test)',
});

test("permittedDomainsOf lists the CA certificate's permitted DNS suffixes", () => {
  assert.deepEqual(permittedDomainsOf(ca.certPem), ['datadoghq.com', 'datadoghq.eu', 'intake.example.net']);
});

test('caPermits admits a suffix and its subdomains and nothing that merely ends with the same letters', () => {
  const cases: [string, boolean][] = [
    ['datadoghq.com', true],
    ['api.datadoghq.com', true],
    ['API.US5.DATADOGHQ.COM.', true],
    ['http-intake.logs.datadoghq.eu', true],
    ['intake.example.net', true],
    ['a.intake.example.net', true],
    ['example.net', false],
    ['evildatadoghq.com', false],
    ['datadoghq.com.evil.org', false],
    ['evil.example.org', false],
    ['127.0.0.1', false],
    ['::1', false],
    ['', false],
  ];
  for (const [host, want] of cases) {
    assert.equal(caPermits(ca.certPem, host), want, host);
    assert.equal(caPermits(permittedDomainsOf(ca.certPem), host), want, `${host} (list)`);
  }
});

test('a CA certificate without name constraints permits nothing (fail closed)', () => {
  const keys = forge.pki.rsa.generateKeyPair({ bits: 1024, e: 0x10001 });
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = '01';
  cert.validity.notBefore = new Date(NOW.getTime() - 1000);
  cert.validity.notAfter = new Date(NOW.getTime() + 86_400_000);
  cert.setSubject([{ shortName: 'CN', value: 'unconstrained' }]);
  cert.setIssuer([{ shortName: 'CN', value: 'unconstrained' }]);
  cert.setExtensions([{ name: 'basicConstraints', critical: true, cA: true }, { name: 'subjectKeyIdentifier' }]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  const pem = forge.pki.certificateToPem(cert);
  assert.deepEqual(permittedDomainsOf(pem), []);
  assert.equal(caPermits(pem, 'api.datadoghq.com'), false);
});

test('describeCa reports subject, validity, SHA-256 fingerprint and permitted domains', () => {
  const d = describeCa(ca.certPem);
  assert.match(d.subject, /CN=Airlock CA \(test\)/);
  assert.equal(d.notBefore.getTime(), NOW.getTime() - 3_600_000);
  assert.equal(d.notAfter.getTime(), NOW.getTime() + 365 * 24 * 3_600_000);
  const der = new X509Certificate(ca.certPem).raw;
  const hex = createHash('sha256').update(der).digest('hex').toUpperCase().match(/../g)?.join(':');
  assert.equal(d.fingerprintSha256, hex);
  assert.deepEqual(d.permittedDomains, ['datadoghq.com', 'datadoghq.eu', 'intake.example.net']);
});

test('describeCa of something that is not a certificate is refused with CA_INVALID', () => {
  assert.throws(() => describeCa('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n'), { code: 'CA_INVALID' });
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { hostname } from 'node:os';
import forge from 'node-forge';
import { createCa } from '../../../certs/create-ca.js';
import { parseNameConstraints } from '../../../certs/name-constraints.js';
import { randomSerialHex } from '../../../certs/rsa.js';

const YEAR = 365 * 24 * 3_600_000;
const NOW = new Date('2026-03-01T12:00:00Z');

interface Ext {
  id: string;
  name?: string;
  critical?: boolean;
  value: string;
  [k: string]: unknown;
}

function extensionsOf(pem: string): Map<string, Ext> {
  const cert = forge.pki.certificateFromPem(pem);
  return new Map((cert.extensions as Ext[]).map((e) => [e.id, e]));
}

const ca = createCa({ permittedDomains: ['datadoghq.com', '*.Example.com', 'api.foo.io.'], validityMs: YEAR, now: NOW });

test('the CA has critical basicConstraints CA:true with pathlen 0', () => {
  const e = extensionsOf(ca.certPem).get('2.5.29.19');
  assert.equal(e?.critical, true);
  assert.equal(e?.['cA'], true);
  assert.equal(e?.['pathLenConstraint'], 0);
});

test('the CA has critical keyUsage keyCertSign and cRLSign only', () => {
  const e = extensionsOf(ca.certPem).get('2.5.29.15');
  assert.equal(e?.critical, true);
  assert.equal(e?.['keyCertSign'], true);
  assert.equal(e?.['cRLSign'], true);
  assert.equal(e?.['digitalSignature'], false);
  assert.equal(e?.['keyEncipherment'], false);
});

test('the CA has a non-critical subject key identifier matching its key', () => {
  const cert = forge.pki.certificateFromPem(ca.certPem);
  const e = extensionsOf(ca.certPem).get('2.5.29.14');
  assert.notEqual(e, undefined);
  assert.notEqual(e?.critical, true);
  assert.equal(e?.['subjectKeyIdentifier'], cert.generateSubjectKeyIdentifier().toHex());
});

test('critical nameConstraints permit the normalised domains and exclude every IPv4 and IPv6 address', () => {
  const e = extensionsOf(ca.certPem).get('2.5.29.30');
  assert.equal(e?.critical, true);
  assert.deepEqual(parseNameConstraints(e?.value ?? '').permittedDns, ['datadoghq.com', 'example.com', 'api.foo.io']);
  const root = forge.asn1.fromDer(e?.value ?? '');
  const excluded = (root.value as forge.asn1.Asn1[]).find((v) => v.type === 1);
  const ips = (excluded?.value as forge.asn1.Asn1[]).map((st) => (st.value as forge.asn1.Asn1[])[0]);
  assert.deepEqual(
    ips.map((ip) => ({ tag: ip?.type, bytes: Buffer.from(ip?.value as string, 'binary').toString('hex') })),
    [
      { tag: 7, bytes: '00'.repeat(8) },
      { tag: 7, bytes: '00'.repeat(32) },
    ],
  );
});

test('the CA is self-signed with sha256WithRSAEncryption and an RSA-2048 key that matches keyPem', () => {
  const x = new X509Certificate(ca.certPem);
  assert.equal(x.ca, true);
  assert.equal(x.verify(x.publicKey), true);
  assert.equal(x.publicKey.asymmetricKeyDetails?.modulusLength, 2048);
  assert.equal(forge.pki.oids[forge.pki.certificateFromPem(ca.certPem).signatureOid], 'sha256WithRSAEncryption');
  assert.equal(x.checkPrivateKey(createPrivateKey(ca.keyPem)), true);
});

test('the CA is valid from an hour before now until now plus the configured validity', () => {
  const x = new X509Certificate(ca.certPem);
  assert.equal(new Date(x.validFrom).getTime(), NOW.getTime() - 3_600_000);
  assert.equal(new Date(x.validTo).getTime(), NOW.getTime() + YEAR);
});

test('the CA subject names Airlock and this machine by default, or the given common name', () => {
  assert.ok(new X509Certificate(ca.certPem).subject.split('\n').includes(`CN=${`Airlock CA (${hostname()})`.slice(0, 64)}`));
  const named = createCa({ permittedDomains: ['datadoghq.com'], validityMs: YEAR, commonName: 'Test CA' });
  assert.match(new X509Certificate(named.certPem).subject, /^CN=Test CA$/m);
});

test('CA serials are 128-bit, positive and differ between CAs', () => {
  const other = createCa({ permittedDomains: ['datadoghq.com'], validityMs: YEAR });
  const a = new X509Certificate(ca.certPem).serialNumber;
  const b = new X509Certificate(other.certPem).serialNumber;
  assert.notEqual(a, b);
  for (const s of [a, b]) {
    assert.equal(s.length, 32);
    assert.ok(parseInt(s.slice(0, 2), 16) < 0x80 && parseInt(s.slice(0, 2), 16) > 0);
  }
});

test('random serials are 16 bytes with the top bit clear, a non-zero first byte, and never repeat', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 2000; i++) {
    const s = randomSerialHex();
    assert.match(s, /^[0-7][0-9a-f]{31}$/);
    assert.notEqual(s.slice(0, 2), '00');
    seen.add(s);
  }
  assert.equal(seen.size, 2000);
});

test('a CA with no permitted domain is refused with BAD_DOMAIN', () => {
  assert.throws(() => createCa({ permittedDomains: [], validityMs: YEAR }), { code: 'BAD_DOMAIN' });
});

test('an IP address or a malformed name as a permitted domain is refused with BAD_DOMAIN', () => {
  for (const bad of ['10.0.0.1', '::1', 'exa mple.com', '*.*.example.com', 'a..b']) {
    assert.throws(() => createCa({ permittedDomains: [bad], validityMs: YEAR }), { code: 'BAD_DOMAIN' }, bad);
  }
});

test('a non-positive CA validity is refused', () => {
  assert.throws(() => createCa({ permittedDomains: ['datadoghq.com'], validityMs: 0 }), RangeError);
});

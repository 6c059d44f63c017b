import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createPrivateKey, X509Certificate } from 'node:crypto';
import forge from 'node-forge';
import { createCa } from '../../../certs/create-ca.js';
import { LeafIssuer, sniCallbackFor } from '../../../certs/leaf-issuer.js';

const DAY = 24 * 3_600_000;
const T0 = Date.parse('2026-03-01T12:00:00Z');
const ca = createCa({ permittedDomains: ['datadoghq.com', 'api.foo.io'], validityMs: 365 * DAY, now: new Date(T0) });
const caX509 = new X509Certificate(ca.certPem);

interface Ext {
  id: string;
  critical?: boolean;
  [k: string]: unknown;
}

// forge's certificateFromPem only reads RSA certificates; the leaves carry a P-256 key, so their
// extensions are read with forge's ASN.1 layer (certificateExtensionFromAsn1 is exported by
// node-forge but missing from @types/node-forge).
const extensionFromAsn1 = (forge.pki as unknown as { certificateExtensionFromAsn1: (a: forge.asn1.Asn1) => Ext }).certificateExtensionFromAsn1;

function leafAsn1(pem: string): { tbs: forge.asn1.Asn1[]; signatureOid: string; extensions: Ext[] } {
  const cert = forge.asn1.fromDer(forge.pem.decode(pem)[0]?.body ?? '').value as forge.asn1.Asn1[];
  const tbs = cert[0]?.value as forge.asn1.Asn1[];
  const sigAlg = (cert[1]?.value as forge.asn1.Asn1[])[0]?.value as string;
  const extsTagged = tbs.find((v) => v.tagClass === forge.asn1.Class.CONTEXT_SPECIFIC && v.type === 3);
  const exts = ((extsTagged?.value as forge.asn1.Asn1[])[0]?.value ?? []) as forge.asn1.Asn1[];
  return { tbs, signatureOid: forge.asn1.derToOid(sigAlg), extensions: exts.map(extensionFromAsn1) };
}

function clock(start: number): { now: () => number; set: (ms: number) => void } {
  let t = start;
  return { now: () => t, set: (ms) => (t = ms) };
}

const c = clock(T0);
const issuer = new LeafIssuer(ca, { now: c.now });

test('a leaf carries a P-256 key, signed by the CA with sha256WithRSAEncryption', () => {
  const { certPem, keyPem } = issuer.certFor('api.datadoghq.com');
  const x = new X509Certificate(certPem);
  assert.equal(x.publicKey.asymmetricKeyType, 'ec');
  assert.equal(x.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
  assert.equal(createPrivateKey(keyPem).asymmetricKeyType, 'ec');
  assert.equal(x.checkPrivateKey(createPrivateKey(keyPem)), true);
  assert.equal(forge.pki.oids[leafAsn1(certPem).signatureOid], 'sha256WithRSAEncryption');
  assert.equal(x.verify(caX509.publicKey), true);
});

test('a leaf carries the required extensions with the required criticality', () => {
  const leafPem = issuer.certFor('api.datadoghq.com').certPem;
  const leaf = leafAsn1(leafPem);
  const ext = new Map(leaf.extensions.map((e) => [e.id, e]));
  const bc = ext.get('2.5.29.19');
  assert.equal(bc?.['cA'], false);
  const ku = ext.get('2.5.29.15');
  assert.equal(ku?.critical, true);
  assert.equal(ku?.['digitalSignature'], true);
  // ECDSA keys only sign: keyEncipherment is for RSA key transport.
  assert.equal(ku?.['keyEncipherment'], false);
  assert.equal(ku?.['keyCertSign'], false);
  const eku = ext.get('2.5.29.37');
  assert.equal(eku?.['serverAuth'], true);
  assert.equal(eku?.['clientAuth'], undefined);
  const san = ext.get('2.5.29.17');
  assert.deepEqual(
    (san?.['altNames'] as { type: number; value: string }[]).map((n) => [n.type, n.value]),
    [[2, 'api.datadoghq.com']],
  );
  // RFC 5280 4.2.1.2 method 1: SHA-1 of the subjectPublicKey BIT STRING without its unused-bits
  // octet; for P-256 that is the 65-byte uncompressed point at the end of the SPKI.
  const spki = new X509Certificate(leafPem).publicKey.export({ type: 'spki', format: 'der' });
  assert.equal(
    ext.get('2.5.29.14')?.['subjectKeyIdentifier'],
    createHash('sha1')
      .update(spki.subarray(spki.length - 65))
      .digest('hex'),
  );
  assert.ok(ext.has('2.5.29.35'));
  assert.equal(ext.size, 6);
  assert.equal(new X509Certificate(leafPem).subject, 'CN=api.datadoghq.com');
});

test("a leaf's authority key identifier is the CA's subject key identifier", () => {
  const leafPem = issuer.certFor('api.datadoghq.com').certPem;
  const caSki = (forge.pki.certificateFromPem(ca.certPem).getExtension('subjectKeyIdentifier') as { subjectKeyIdentifier: string }).subjectKeyIdentifier;
  const aki = leafAsn1(leafPem).extensions.find((e) => e.id === '2.5.29.35');
  const seq = forge.asn1.fromDer(aki?.['value'] as string);
  const keyId = (seq.value as forge.asn1.Asn1[]).find((v) => v.tagClass === forge.asn1.Class.CONTEXT_SPECIFIC && v.type === 0);
  assert.equal(forge.util.bytesToHex(keyId?.value as string), caSki);
  const x = new X509Certificate(leafPem);
  assert.equal(x.checkIssued(caX509), true);
  assert.equal(x.verify(caX509.publicKey), true);
});

test('a leaf is valid from an hour before now for at most 30 days', () => {
  const leaf = new X509Certificate(issuer.certFor('api.datadoghq.com').certPem);
  const from = Date.parse(leaf.validFrom);
  const to = Date.parse(leaf.validTo);
  assert.equal(from, T0 - 3_600_000);
  assert.ok(to - from <= 30 * DAY, `${to - from} ms`);
  assert.ok(to > T0 + 29 * DAY);
});

test('a leaf never outlives its CA', () => {
  const shortCa = createCa({ permittedDomains: ['datadoghq.com'], validityMs: 5 * DAY, now: new Date(T0) });
  const leafPem = new LeafIssuer(shortCa, { now: () => T0 }).certFor('api.datadoghq.com').certPem;
  assert.equal(new X509Certificate(leafPem).validTo, new X509Certificate(shortCa.certPem).validTo);
});

test('a leaf for a host when the CA has expired is refused with CA_EXPIRED', () => {
  const shortCa = createCa({ permittedDomains: ['datadoghq.com'], validityMs: DAY, now: new Date(T0) });
  const late = new LeafIssuer(shortCa, { now: () => T0 + 2 * DAY });
  assert.throws(() => late.certFor('api.datadoghq.com'), { code: 'CA_EXPIRED' });
});

test('leaf serials are 128-bit, positive and unique per issuance', () => {
  const serials = ['a.datadoghq.com', 'b.datadoghq.com', 'c.datadoghq.com', 'api.foo.io'].map(
    (h) => new X509Certificate(issuer.certFor(h).certPem).serialNumber,
  );
  assert.equal(new Set(serials).size, serials.length);
  for (const s of serials) assert.match(s, /^[0-7][0-9A-F]{31}$/i);
});

test('every leaf of one issuer shares the one key made when the issuer was built', () => {
  const a = issuer.certFor('a.datadoghq.com');
  const b = issuer.certFor('b.datadoghq.com');
  assert.equal(a.keyPem, b.keyPem);
  assert.equal(
    new X509Certificate(a.certPem).publicKey.export({ type: 'spki', format: 'pem' }),
    new X509Certificate(b.certPem).publicKey.export({ type: 'spki', format: 'pem' }),
  );
  assert.equal(new X509Certificate(b.certPem).checkPrivateKey(createPrivateKey(a.keyPem)), true);
  assert.notEqual(a.keyPem, ca.keyPem);
});

test('a leaf for a host outside the name constraints is refused with HOST_NOT_PERMITTED', () => {
  for (const host of ['evil.example.org', 'evildatadoghq.com', 'datadoghq.com.evil.org', 'www.foo.io', '127.0.0.1', '[::1]', '::1', '', '*.datadoghq.com']) {
    assert.throws(() => issuer.certFor(host), { code: 'HOST_NOT_PERMITTED' }, host);
    assert.throws(() => issuer.secureContextFor(host), { code: 'HOST_NOT_PERMITTED' }, host);
  }
});

test('hostnames are lower-cased and lose a trailing dot, so they share one cache entry', () => {
  const ctx = issuer.secureContextFor('norm.datadoghq.com');
  assert.equal(issuer.secureContextFor('NORM.DataDogHQ.com.'), ctx);
  assert.equal(new X509Certificate(issuer.certFor('Norm.datadoghq.com').certPem).subjectAltName, 'DNS:norm.datadoghq.com');
});

test('the cache returns the same context until less than a third of the lifetime remains, then renews', () => {
  const k = clock(T0);
  const iss = new LeafIssuer(ca, { now: k.now, leafValidityMs: 30 * DAY });
  const first = iss.secureContextFor('api.datadoghq.com');
  const firstCert = iss.certFor('api.datadoghq.com').certPem;
  // notBefore is T0 - 1h and the lifetime is 30 days, so renewal is due at T0 - 1h + 20 days.
  k.set(T0 - 3_600_000 + 20 * DAY - 1000);
  assert.equal(iss.secureContextFor('api.datadoghq.com'), first);
  assert.equal(iss.certFor('api.datadoghq.com').certPem, firstCert);
  k.set(T0 - 3_600_000 + 20 * DAY + 1000);
  const renewed = iss.secureContextFor('api.datadoghq.com');
  assert.notEqual(renewed, first);
  const cert = new X509Certificate(iss.certFor('api.datadoghq.com').certPem);
  assert.notEqual(cert.serialNumber, new X509Certificate(firstCert).serialNumber);
  assert.equal(Date.parse(cert.validFrom), T0 + 20 * DAY - 2 * 3_600_000 + 1000);
  assert.equal(iss.secureContextFor('api.datadoghq.com'), renewed);
});

test('a clock that jumps back before the cached notBefore gets a fresh leaf', () => {
  const k = clock(T0);
  const iss = new LeafIssuer(ca, { now: k.now });
  const first = iss.secureContextFor('api.datadoghq.com');
  k.set(T0 - 2 * 3_600_000);
  assert.notEqual(iss.secureContextFor('api.datadoghq.com'), first);
});

test('the cache is bounded and evicts the least recently used host first', () => {
  const iss = new LeafIssuer(ca, { now: () => T0, maxEntries: 2 });
  const a = iss.secureContextFor('a.datadoghq.com');
  iss.secureContextFor('b.datadoghq.com');
  assert.equal(iss.secureContextFor('a.datadoghq.com'), a);
  iss.secureContextFor('c.datadoghq.com');
  assert.equal(iss.size, 2);
  assert.equal(iss.secureContextFor('a.datadoghq.com'), a, 'a was used more recently than b and stays');
  const b2 = iss.secureContextFor('b.datadoghq.com');
  assert.ok(b2, 'b was evicted and is issued again');
  assert.equal(iss.size, 2);
});

test('a leaf validity over 30 days is refused at construction', () => {
  assert.throws(() => new LeafIssuer(ca, { leafValidityMs: 31 * DAY }), RangeError);
});

test('an issuer given a key that does not belong to the CA is refused with CA_KEY_MISMATCH', () => {
  const other = createCa({ permittedDomains: ['datadoghq.com'], validityMs: DAY });
  assert.throws(() => new LeafIssuer({ certPem: ca.certPem, keyPem: other.keyPem }), { code: 'CA_KEY_MISMATCH' });
});

test('the SNI callback answers a permitted name with a context and an outside name with the refusal', () => {
  const cb = sniCallbackFor(issuer);
  let got: [Error | null, unknown] | undefined;
  cb('api.datadoghq.com', (err, ctx) => (got = [err, ctx]));
  assert.equal(got?.[0], null);
  assert.equal(got?.[1], issuer.secureContextFor('api.datadoghq.com'));
  cb('evil.example.org', (err, ctx) => (got = [err, ctx]));
  assert.equal((got?.[0] as { code?: string } | null)?.code, 'HOST_NOT_PERMITTED');
  assert.equal(got?.[1], undefined);
});

test('a host longer than 64 characters gets an empty subject, a critical SAN and still the P-256 key', () => {
  const host = `${'a'.repeat(60)}.datadoghq.com`;
  const { certPem } = issuer.certFor(host);
  const x = new X509Certificate(certPem);
  assert.equal(x.subject, undefined);
  assert.equal(x.subjectAltName, `DNS:${host}`);
  assert.equal(leafAsn1(certPem).extensions.find((e) => e.id === '2.5.29.17')?.critical, true);
  assert.equal(x.publicKey.asymmetricKeyType, 'ec');
  assert.equal(x.verify(caX509.publicKey), true);
});

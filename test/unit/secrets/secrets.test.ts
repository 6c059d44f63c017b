// Issue 16: one module knows every credential carrier, and one scrubber serves the recording and
// the response masking. Each list that used to be kept apart is checked against it here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import {
  COOKIE_HEADERS,
  KEY_HEADERS,
  LOG_REDACT_PATHS,
  TOKEN_HEADERS,
  isCredentialHeader,
  isSecretHeader,
} from '../../../appliance/secrets/credential-name.js';
import { MIN_SECRET_LENGTH, prepareSecrets, scrubText } from '../../../appliance/secrets/scrub.js';
import { findToken } from '../../../appliance/identity/carriers.js';
import { injectCredential } from '../../../appliance/credentials/inject-credential.js';
import { stripAgentCredentials } from '../../../appliance/credentials/strip-agent-credentials.js';
import { redactHeaders, redactText } from '../../../appliance/secrets/redact.js';
import { maskStep, textMasker } from '../../../appliance/masking/mask-text.js';
import { createLogger } from '../../../appliance/log.js';

const JWT = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln';

test('every identity-token header is a credential header: stripped, recorded redacted, and read for the token', () => {
  for (const h of TOKEN_HEADERS) {
    assert.equal(isCredentialHeader(h), true, h);
    const value = h.endsWith('authorization') ? `Bearer ${JWT}` : JWT;
    assert.equal(findToken({ rawHeaders: [h.toUpperCase(), value] })?.token, JWT, `${h} carries the token`);
    assert.deepEqual(stripAgentCredentials({ path: '/', rawHeaders: [h, value] }).rawHeaders, [], `${h} is stripped`);
    assert.deepEqual(redactHeaders([[h, value]], prepareSecrets([])), [[h, `[redacted:${h}]`]]);
  }
  for (const h of COOKIE_HEADERS) assert.equal(isSecretHeader(h), true, h);
  assert.equal(isSecretHeader('Content-Type'), false);
});

test('the injected key headers are token carriers, and any spelling of them from the agent is replaced', () => {
  for (const h of KEY_HEADERS) assert.ok((TOKEN_HEADERS as readonly string[]).includes(h), h);
  const out = injectCredential(['dd_api_key', 'agent', 'Dd-Application-Key', 'agent2', 'Accept', '*/*'], {
    name: 'dd',
    apiKey: 'a'.repeat(32),
    appKey: 'b'.repeat(40),
    createdAt: '2026-01-01T00:00:00Z',
    updatedAt: '2026-01-01T00:00:00Z',
  });
  assert.deepEqual(out.rawHeaders, ['Accept', '*/*', 'DD-API-KEY', 'a'.repeat(32), 'DD-APPLICATION-KEY', 'b'.repeat(40)]);
});

test('the log redact paths are derived from the carriers and are the fixed paths they always were', () => {
  assert.deepEqual(
    [...LOG_REDACT_PATHS].sort(),
    [
      'token',
      'jwt',
      'apiKey',
      'appKey',
      'headers["dd-api-key"]',
      'headers["dd-application-key"]',
      'headers.authorization',
      'headers["proxy-authorization"]',
      'req.headers["dd-api-key"]',
      'req.headers["dd-application-key"]',
      'req.headers.authorization',
      'req.headers["proxy-authorization"]',
    ].sort(),
  );
  const lines: string[] = [];
  const log = createLogger({
    destination: new Writable({
      write: (c: Buffer, _e, cb) => {
        lines.push(c.toString());
        cb();
      },
    }),
  });
  log.info({ headers: { 'dd-api-key': 'k'.repeat(32), authorization: 'Bearer x' }, req: { headers: { 'proxy-authorization': 'Bearer y' } } }, 'l');
  const line = JSON.parse(lines.join('')) as { headers: Record<string, string>; req: { headers: Record<string, string> } };
  assert.equal(line.headers['dd-api-key'], '[redacted]');
  assert.equal(line.headers['authorization'], '[redacted]');
  assert.equal(line.req.headers['proxy-authorization'], '[redacted]');
});

test('recording and masking scrub the same values: nothing under the minimum length, every form at or above it', () => {
  const short = 'x'.repeat(MIN_SECRET_LENGTH - 1);
  const key = 'k+/=Key-With/Slashes+And=Pad';
  const encoded = encodeURIComponent(key);
  assert.notEqual(encoded, key);
  const text = `a ${short} b ${key} c ${encoded} d`;
  const recorded = redactText(
    text,
    prepareSecrets([
      { value: short, label: 'short' },
      { value: key, label: 'vault' },
    ]),
  );
  assert.equal(recorded, `a ${short} b [redacted:vault] c [redacted:vault] d`);
  // Masking used to look for the value as written only: an upstream echoing the key
  // percent-encoded (in a URL it returns) reached the agent. It is masked now, like the recording.
  const masked = maskStep(textMasker([short, key], []), text, true).out;
  assert.equal(masked, `a ${short} b [masked:credential] c [masked:credential] d`);
  assert.equal(
    scrubText(text, prepareSecrets([{ value: key, label: 'l' }]), (l) => `<${l}>`),
    `a ${short} b <l> c <l> d`,
  );
});

test('a masked stream holds back enough to catch the longest form split across chunks', () => {
  const key = 'k+/=Key-With/Slashes+And=Pad';
  const encoded = encodeURIComponent(key);
  const m = textMasker([key], []);
  assert.equal(m.tail, encoded.length - 1);
  const body = `pre ${encoded} post`;
  const cut = body.indexOf(encoded) + 5;
  const first = maskStep(m, body.slice(0, cut), false);
  const last = maskStep(m, first.keep + body.slice(cut), true);
  assert.equal(first.out + last.out, 'pre [masked:credential] post');
});

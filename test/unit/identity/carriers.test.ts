import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findToken, tokenFromProxyAuthorization } from '../../../appliance/identity/carriers.js';
import { looksLikeJwt } from '../../../appliance/identity/resolve-identity.js';
import { isAirlockError } from '../../../appliance/errors.js';

const JWT = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln';
const OTHER = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ5In0.c2ln';
const basic = (user: string, pass: string): string => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

test('Proxy-Authorization Bearer carries the token', () => {
  assert.deepEqual(findToken({ proxyAuthorization: `Bearer ${JWT}` }), { token: JWT, carriers: ['proxy-authorization'] });
});

test('Proxy-Authorization Basic carries the token as the password', () => {
  assert.equal(findToken({ proxyAuthorization: basic('x', JWT) })?.token, JWT);
});

test('Proxy-Authorization Basic with the token as user and no password carries the token', () => {
  assert.equal(tokenFromProxyAuthorization(basic(JWT, '')), JWT);
});

test('the scheme of Proxy-Authorization is case-insensitive', () => {
  assert.equal(findToken({ proxyAuthorization: `bEARER ${JWT}` })?.token, JWT);
});

test('an unknown Proxy-Authorization scheme carries no token', () => {
  assert.equal(findToken({ proxyAuthorization: `Digest ${JWT}` }), null);
});

test('a JWT in DD-API-KEY is the token', () => {
  assert.deepEqual(findToken({ rawHeaders: ['DD-API-KEY', JWT] }), { token: JWT, carriers: ['header:dd-api-key'] });
});

test('a JWT in DD-APPLICATION-KEY is the token', () => {
  assert.deepEqual(findToken({ rawHeaders: ['Dd-Application-Key', JWT] }), { token: JWT, carriers: ['header:dd-application-key'] });
});

test('Authorization Bearer with a JWT is the token', () => {
  assert.deepEqual(findToken({ rawHeaders: ['authorization', `Bearer ${JWT}`] }), { token: JWT, carriers: ['header:authorization'] });
});

test('header names match in any case', () => {
  assert.equal(findToken({ rawHeaders: ['dD-aPi-KeY', JWT] })?.token, JWT);
  assert.equal(findToken({ rawHeaders: ['AUTHORIZATION', `bearer ${JWT}`] })?.token, JWT);
});

test('a non-JWT DD-API-KEY is an agent key, not a token', () => {
  assert.equal(findToken({ rawHeaders: ['DD-API-KEY', '0123456789abcdef0123456789abcdef'] }), null);
  assert.equal(findToken({ rawHeaders: ['DD-API-KEY', '0123456789abcdef0123456789abcdef', 'dd-application-key', JWT] })?.token, JWT);
});

test('a non-JWT Authorization Bearer is not a token', () => {
  assert.equal(findToken({ rawHeaders: ['Authorization', 'Bearer ddapp_abc'] }), null);
});

test('the same token in several carriers is accepted and every carrier is named once', () => {
  const found = findToken({
    proxyAuthorization: `Bearer ${JWT}`,
    rawHeaders: ['DD-API-KEY', JWT, 'dd-api-key', JWT, 'Authorization', `Bearer ${JWT}`],
  });
  assert.deepEqual(found, { token: JWT, carriers: ['proxy-authorization', 'header:dd-api-key', 'header:authorization'] });
});

test('two different tokens are refused with TOKEN_INVALID and the detail holds no token', () => {
  for (const input of [
    { proxyAuthorization: `Bearer ${JWT}`, rawHeaders: ['DD-API-KEY', OTHER] },
    { rawHeaders: ['DD-API-KEY', JWT, 'DD-API-KEY', OTHER] },
    { rawHeaders: ['Authorization', `Bearer ${JWT}`, 'DD-APPLICATION-KEY', OTHER] },
  ]) {
    assert.throws(
      () => findToken(input),
      (err: unknown) =>
        isAirlockError(err) &&
        err.code === 'TOKEN_INVALID' &&
        /two different identity tokens/.test(err.message) &&
        !err.message.includes(JWT) &&
        !err.message.includes(OTHER),
    );
  }
});

test('no carrier means no token', () => {
  assert.equal(findToken({}), null);
  assert.equal(findToken({ rawHeaders: ['host', 'api.datadoghq.com', 'accept', '*/*'] }), null);
});

test('looksLikeJwt accepts compact JWS shapes and rejects Datadog keys', () => {
  assert.equal(looksLikeJwt(JWT), true);
  assert.equal(looksLikeJwt('eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.'), true);
  assert.equal(looksLikeJwt('0123456789abcdef0123456789abcdef'), false);
  assert.equal(looksLikeJwt('a.b.c'), false);
  assert.equal(looksLikeJwt(`${JWT}.extra`), false);
  assert.equal(looksLikeJwt(`eyJ${'a'.repeat(20_000)}.b.c`), false);
});

// Rule 6 of secrets/redact.ts: a value shaped like an `airlock login` session token is redacted
// wherever it is recorded, request or response, text or binary, whole or cut at the cap.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { captureBody } from '../../../appliance/recording/journal/index.js';
import { newSessionToken, looksLikeSessionToken } from '../../../appliance/identity/session-token.js';
import { prepareSecrets, redactBytes, redactHeaders, redactText, redactTruncatedTail, redactUrl } from '../../../appliance/secrets/redact.js';

const none = prepareSecrets([]);
const P = '[redacted:session token]';
const limits = { maxDecodedBytes: 1024 * 1024 };

test('an unknown session token is redacted in text, header names and values, glued to a word or not', () => {
  const t = newSessionToken();
  const u = newSessionToken();
  assert.ok(looksLikeSessionToken(t));
  assert.equal(redactText(`{"note":"${t}","x":"walk${u}"}`, none), `{"note":"${P}","x":"walk${P}"}`);
  assert.deepEqual(redactHeaders([[`x-${t}`, `was ${u}`]], none), [[`x-${P}`, `was ${P}`]]);
});

test('the whole base64url run after alk_ is taken, so no character of a token is left beside the placeholder', () => {
  const t = newSessionToken();
  assert.equal(redactText(`alk_${t}-tail.`, none), `${P}.`);
});

test('shorter than a token, or alk_ alone, is ordinary text and kept', () => {
  const short = `alk_${'a'.repeat(42)}`;
  assert.equal(redactText(`${short} and walk_on`, none), `${short} and walk_on`);
});

test("the exchange's own token keeps its label (rule 2 first)", () => {
  const t = newSessionToken();
  const u = newSessionToken();
  assert.equal(redactText(`${t} ${u}`, prepareSecrets([{ value: t, label: 'identity token' }])), `[redacted:identity token] ${P}`);
});

test('in a URL the placeholder is percent-encoded', () => {
  const t = newSessionToken();
  assert.equal(
    redactUrl(`https://api.datadoghq.com/api/v1/x/${t}?q=${t}`, none),
    `https://api.datadoghq.com/api/v1/x/${encodeURIComponent(P)}?q=${encodeURIComponent(P)}`,
  );
});

test('in a binary body the token bytes are replaced and every other byte is kept', () => {
  const t = newSessionToken();
  const bytes = Buffer.concat([Buffer.from([0xff, 0x00, 0x80]), Buffer.from(t), Buffer.from([0xc3, 0x28])]);
  assert.deepEqual(redactBytes(bytes, none), Buffer.concat([Buffer.from([0xff, 0x00, 0x80]), Buffer.from(P), Buffer.from([0xc3, 0x28])]));
  const plain = Buffer.from([1, 2, 3]);
  assert.equal(redactBytes(plain, none), plain, 'nothing to do: the same buffer');
});

test('a token cut at the cap is redacted from alk_ on', () => {
  const t = newSessionToken();
  assert.equal(redactTruncatedTail(`ok ${t.slice(0, 20)}`, none), `ok ${P}`);
  assert.equal(redactTruncatedTail('ok alk', none), 'ok alk');
});

test('a response body (no key-shape search) still loses a token, whole or cut', () => {
  const t = newSessionToken();
  const text = `{"echo":"${t}","cut":"${t.slice(0, 30)}`;
  const out = captureBody({ bytes: Buffer.from(text), size: text.length + 100, truncated: true }, [['content-type', 'application/json']], none, limits);
  assert.equal(out.text, `{"echo":"${P}","cut":"${P}`);
});

// Issue 16: one error model. Every code the appliance throws, records, logs or compares against is
// in the one table (errors.ts), each in exactly one area; every HTTP answer has the one shape.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { AirlockError, CodedError, ERRORS, areaOf, codeOr, errorEntries, isErrorCode, toErrorResponse, type HttpErrorCode } from '../../../appliance/errors.js';
import { CONFIG_ERRORS } from '../../../appliance/error-codes/config.js';
import { OPERATOR_ERRORS } from '../../../appliance/error-codes/operator.js';
import { PROXY_ERRORS } from '../../../appliance/error-codes/proxy.js';

const ROOT = resolve(import.meta.dirname, '../../../..');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

// Where a code is written: `code: 'X'`, `code = 'X'`, `code === 'X'`, `new SomeError('X'`,
// `CliError('X'`, `refused(..., 'X')`, `codeOr(..., 'X')`, `?? 'X'` after a code.
const CODE_SITES = [
  /\bcode\s*(?::|=|===|!==)\s*'([A-Z][A-Z0-9_]+)'/g,
  /\b[A-Z][A-Za-z]*Error\(\s*'([A-Z][A-Z0-9_]+)'/g,
  /\brefused\([^)]*'([A-Z][A-Z0-9_]+)'\)/g,
  /\bcodeOr\([^)]*'([A-Z][A-Z0-9_]+)'\)/g,
  /\.code \?\? '([A-Z][A-Z0-9_]+)'/g,
];

/** Codes that belong to Node and its parsers (ENOENT, ERR_HTTP_REQUEST_TIMEOUT, HPE_HEADER_OVERFLOW, jose's ERR_JWS_...). */
const FOREIGN = /^(E[A-Z]+|ERR_[A-Z0-9_]+|HPE_[A-Z_]+)$/;

function codesWritten(text: string): string[] {
  const out: string[] = [];
  for (const re of CODE_SITES) for (const m of text.matchAll(re)) out.push(m[1]!);
  return out.filter((c) => !FOREIGN.test(c));
}

test('the scan finds codes in every form they are written in', () => {
  const sample = [
    "throw new VaultError(\n  'VAULT_LOCKED', 'x')",
    "log.warn({ code: 'UPSTREAM_FORBIDDEN' })",
    "readonly code = 'BAD_QUERY'",
    "c.refused(null, 'HELD_ABORTED')",
    "if (err.code === 'ENOENT' || e.code === 'VAULT_CORRUPT')",
    "new CliError(r.code ?? 'CONTROL_FAILED', m)",
    "codeOr(h, 'LOGIN_FAILED')",
  ].join('\n');
  assert.deepEqual(codesWritten(sample).sort(), [
    'BAD_QUERY',
    'CONTROL_FAILED',
    'HELD_ABORTED',
    'LOGIN_FAILED',
    'UPSTREAM_FORBIDDEN',
    'VAULT_CORRUPT',
    'VAULT_LOCKED',
  ]);
});

test('every code written anywhere in appliance/ is in the error table', () => {
  const missing: string[] = [];
  let seen = 0;
  for (const file of sources(join(ROOT, 'appliance'))) {
    for (const code of codesWritten(readFileSync(file, 'utf8'))) {
      seen++;
      if (!isErrorCode(code)) missing.push(`${relative(ROOT, file)}: ${code}`);
    }
  }
  assert.ok(seen > 100, `the scan found only ${seen} code sites: it no longer reads the sources`);
  assert.deepEqual(missing, [], 'add these codes to appliance/error-codes/<area>.ts');
});

test('HELD_ABORTED and the 408 are in the table', () => {
  assert.equal(ERRORS.HELD_ABORTED.status, null);
  assert.equal(areaOf('HELD_ABORTED'), 'proxy');
  assert.equal(ERRORS.REQUEST_TIMEOUT.status, 408);
  assert.equal(toErrorResponse(new AirlockError('REQUEST_TIMEOUT')).status, 408);
});

test('each code is in exactly one area, and each entry says what to do', () => {
  const tables = [PROXY_ERRORS, OPERATOR_ERRORS, CONFIG_ERRORS].map((t) => Object.keys(t));
  const all = tables.flat();
  assert.equal(new Set(all).size, all.length, `codes in two areas: ${all.filter((c, i) => all.indexOf(c) !== i).join(', ')}`);
  assert.equal(errorEntries().length, Object.keys(ERRORS).length);
  for (const { code, spec } of errorEntries()) {
    assert.match(code, /^[A-Z][A-Z0-9_]+$/);
    assert.ok(spec.message.length >= 20, `${code}: the message says too little`);
    assert.ok(spec.status === null || (spec.status >= 400 && spec.status < 600), `${code}: status ${spec.status}`);
  }
  assert.equal(areaOf('TOKEN_MISSING'), 'proxy');
  assert.equal(areaOf('HOLD_DECIDED'), 'operator');
  assert.equal(areaOf('VAULT_CORRUPT'), 'config');
});

test('every error class is a CodedError with its area; codes from outside are checked', async () => {
  const { VaultError } = await import('../../../appliance/credentials/vault-error.js');
  const { ConfigError } = await import('../../../appliance/config/load-config.js');
  const { CliError } = await import('../../../appliance/commands/context.js');
  const v = new VaultError('VAULT_LOCKED', 'locked');
  assert.ok(v instanceof CodedError);
  assert.equal(v.area, 'config');
  assert.equal(v.message, 'locked');
  const c = new ConfigError('airlock.yaml', [{ path: 'a', message: 'b' }]);
  assert.equal(c.code, 'CONFIG_INVALID');
  assert.equal(c.area, 'config');
  assert.equal(new CliError('USAGE', 'x', 2).area, 'operator');
  const a = new AirlockError('POLICY_DENIED', 'rule 3');
  assert.ok(a instanceof CodedError);
  assert.equal(a.area, 'proxy');
  assert.equal(codeOr('HOLD_EXPIRED', 'CONTROL_FAILED'), 'HOLD_EXPIRED');
  assert.equal(codeOr('NO_SUCH_CODE', 'CONTROL_FAILED'), 'CONTROL_FAILED');
  assert.equal(codeOr(undefined, 'CONTROL_FAILED'), 'CONTROL_FAILED');
  assert.equal(isErrorCode('toString'), false);
});

test('one answer shape for every HTTP code: status, X-Airlock-Error and {"errors":["airlock: ..."]}', () => {
  for (const { code, spec } of errorEntries()) {
    if (spec.status === null) continue;
    const r = toErrorResponse(new AirlockError(code as HttpErrorCode));
    assert.equal(r.status, spec.status);
    assert.equal(r.headers['x-airlock-error'], code);
    assert.deepEqual(JSON.parse(r.body), { errors: [`airlock: ${spec.message}`] });
  }
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GlobError, pathGlob } from '../../../appliance/lib/path-glob.js';

const yes = (pattern: string, ...paths: string[]): void => {
  for (const p of paths) assert.ok(pathGlob(pattern).test(p), `${pattern} should match ${p}`);
};
const no = (pattern: string, ...paths: string[]): void => {
  for (const p of paths) assert.ok(!pathGlob(pattern).test(p), `${pattern} should not match ${p}`);
};

test('`*` stays in one segment; a whole-segment `*` needs at least one character', () => {
  yes('/api/v1/*', '/api/v1/dashboard');
  no('/api/v1/*', '/api/v1', '/api/v1/dashboard/abc');
  yes('/api/v1/api_key*', '/api/v1/api_key', '/api/v1/api_keys');
  no('/api/v1/api_key*', '/api/v1/api_keys/x');
});

test('`**` as a segment is any number of segments, zero included', () => {
  yes('/api/**', '/api', '/api/x', '/api/x/y/z');
  no('/api/**', '/apis', '/x/api');
  yes('/a/**/b', '/a/b', '/a/x/b', '/a/x/y/b');
  assert.throws(() => pathGlob('/api/v1/dash**'), GlobError);
});

test('`?` is one character, case is ignored, and `.`-leading segments are ordinary', () => {
  yes('/a/x?', '/a/xy');
  no('/a/x?', '/a/x', '/a/x/');
  yes('/API/V1/*', '/api/v1/.hidden');
});

test('everything but `*`, `?` and `/` is literal: no regex, classes, braces, extglobs or negation', () => {
  yes('/a.b', '/a.b');
  no('/a.b', '/aXb');
  for (const p of ['/a/(x)+', '/a/[x]', '/a/{b,c}', '/a/@(x)', '/a/!x', '/a/$x^|y']) {
    yes(p, p);
    no(p, '/a/x', '/a/b', '/a/y');
  }
  no('!/a', '/b');
});

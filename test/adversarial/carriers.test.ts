import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startAirlock, type Airlock } from '../fixtures/airlock-process.js';
import { assertNoSecrets, parseResponses } from '../fixtures/refusal-helpers.js';
import { waitFor } from '../fixtures/wait-for.js';
import { rawTlsExchange } from '../fixtures/raw-tls.js';
import type { ReceivedRequest } from '../fixtures/fake-datadog.js';

// Finding 7 of issue #11: every place an agent can put a Datadog key, written byte by byte inside
// the tunnel. A credential carrier (header, query parameter) never reaches the upstream; a value
// that merely looks like a key (path segment, body field, a JWT) is forwarded but never lands in
// the recording or the log.

interface HarEntry {
  request: { url: string; headers: { name: string; value: string }[]; queryString: { name: string; value: string }[] };
  _airlock: { stripped: string[] };
}

let a: Airlock;
let token: string;
const tokens: string[] = [];
let probe = 0;

function hex(bytes: number): string {
  return randomBytes(bytes).toString('hex');
}

/** Every file under the sessions directory (journals, sidecars, finished HARs) as text. */
function sessionFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(readFileSync(p, 'latin1'));
    }
  };
  walk(join(a.stateDir, 'sessions'));
  return out;
}

/** Every session exported as HAR (the open ones as snapshots). */
async function exportHars(): Promise<string[]> {
  const ls = await a.cli(['sessions', 'ls', '--json']);
  assert.equal(ls.code, 0, ls.stderr);
  const ids = (JSON.parse(ls.stdout) as { id: string }[]).map((s) => s.id);
  const texts: string[] = [];
  for (const id of ids) {
    const r = await a.cli(['sessions', 'export', id]);
    assert.equal(r.code, 0, r.stderr);
    texts.push(r.stdout);
  }
  return texts;
}

function entryFor(hars: readonly string[], marker: string): HarEntry {
  const entries = hars.flatMap((t) => (JSON.parse(t) as { log: { entries: HarEntry[] } }).log.entries);
  const e = entries.find((x) => x.request.url.includes(marker));
  assert.ok(e, `a HAR entry for ${marker}`);
  return e;
}

interface Sent {
  readonly response: string;
  readonly upstream: ReceivedRequest[];
  readonly marker: string;
}

/** One raw request; waits until its `request` log line is out, so the log can be searched. */
async function send(requestFor: (marker: string) => string): Promise<Sent> {
  probe += 1;
  const marker = `probe=${probe}x${hex(3)}`;
  const before = a.datadog.received.length;
  const logLines = a.logs.filter((l) => l.includes('"msg":"request"')).length;
  const response = await rawTlsExchange({ port: a.port, ca: readFileSync(a.caPath, 'utf8'), proxyAuth: `Bearer ${token}`, request: requestFor(marker) });
  await waitFor('the request log line', () => (a.logs.filter((l) => l.includes('"msg":"request"')).length > logLines ? true : undefined));
  return { response, upstream: a.datadog.received.slice(before), marker };
}

function head(lines: string[], body = ''): string {
  return `${lines.join('\r\n')}\r\nHost: api.datadoghq.com\r\nConnection: close\r\n${body === '' ? '' : `Content-Length: ${Buffer.byteLength(body)}\r\n`}\r\n${body}`;
}

/** The value never reached the upstream in a header or the request target. */
function assertNotUpstreamHeadersOrQuery(s: Sent, value: string): void {
  assert.equal(s.upstream.length, 1, 'the request was forwarded once');
  const got = s.upstream[0]!;
  assert.ok(!got.path.includes(value), `the upstream got it in the target: ${got.path.replace(value, '<KEY>')}`);
  for (let i = 0; i < got.rawHeaders.length; i += 2) {
    const n = got.rawHeaders[i]!;
    const v = got.rawHeaders[i + 1]!;
    assert.ok(!n.includes(value) && !v.includes(value), `the upstream got it in header ${n}`);
  }
  assert.equal(got.headers['dd-api-key'], a.apiKey, 'the vaulted key was injected');
}

/** Not in the HAR export, not in any file under sessions/, not in any log line; the vaulted keys not in the response. */
async function assertNowhereRecorded(s: Sent, values: readonly string[]): Promise<HarEntry> {
  const hars = await exportHars();
  const har = hars.join('\n');
  const files = sessionFiles();
  for (const v of values) {
    assert.ok(!har.includes(v), `the HAR export holds ${v.slice(0, 6)}...`);
    for (const f of files) assert.ok(!f.includes(v), `a session file holds ${v.slice(0, 6)}...`);
    const line = a.logs.find((l) => l.includes(v));
    assert.equal(line?.replaceAll(v, '<SECRET>'), undefined, `a log line holds ${v.slice(0, 6)}...`);
  }
  assertNoSecrets(a, tokens, [s.response, har, ...files]);
  return entryFor(hars, s.marker);
}

describe('finding 7: agent credential carriers inside the tunnel', () => {
  before(async () => {
    a = await startAirlock();
    token = await a.issuer.mint({ repository_id: '123456', ref: 'refs/heads/main' });
    tokens.push(token);
  });
  after(async () => {
    await a?.cleanup();
  });

  for (const [name, label] of [
    ['X-Datadog-Api-Key', 'header:x-datadog-api-key'],
    ['ApiKey', 'header:apikey'],
    ['DD.API.KEY', 'header:dd.api.key'],
    ['Dd_Application_Key', 'header:dd-application-key'],
  ] as const) {
    test(`a ${name} header is stripped, recorded as ${label}, and its key is nowhere upstream, recorded or logged`, async () => {
      const key = hex(16);
      const s = await send((m) => head([`GET /api/v1/validate?${m} HTTP/1.1`, `${name}: ${key}`]));
      assert.equal(parseResponses(s.response).status, 200, s.response);
      assertNotUpstreamHeadersOrQuery(s, key);
      const e = await assertNowhereRecorded(s, [key]);
      assert.ok(e._airlock.stripped.includes(label), `stripped ${JSON.stringify(e._airlock.stripped)}`);
    });
  }

  test('repeated DD-API-KEY headers in odd case are all stripped and recorded as header:dd-api-key', async () => {
    const keys = [hex(16), hex(16), hex(16)];
    const s = await send((m) => head([`GET /api/v1/validate?${m} HTTP/1.1`, `dD-aPi-kEy: ${keys[0]}`, `DD-API-KEY: ${keys[1]}`, `Dd-Api-Key: ${keys[2]}`]));
    assert.equal(parseResponses(s.response).status, 200, s.response);
    for (const k of keys) assertNotUpstreamHeadersOrQuery(s, k);
    const e = await assertNowhereRecorded(s, keys);
    assert.ok(e._airlock.stripped.includes('header:dd-api-key'), `stripped ${JSON.stringify(e._airlock.stripped)}`);
  });

  for (const [param, label] of [
    ['api_key[]', 'query:api_key[]'],
    ['api_key%00', 'query:api_key%00'],
    ['api_key+', 'query:api_key+'],
    ['apikey', 'query:apikey'],
    ['?api_key', 'query:?api_key'],
    ['API-KEY', 'query:api_key'],
  ] as const) {
    test(`a query parameter named ${param} is stripped, recorded as ${label}, and its key is nowhere upstream, recorded or logged`, async () => {
      const key = hex(16);
      const s = await send((m) => head([`GET /api/v1/validate?${param}=${key}&${m} HTTP/1.1`]));
      assert.equal(parseResponses(s.response).status, 200, s.response);
      assertNotUpstreamHeadersOrQuery(s, key);
      assert.ok(s.upstream[0]!.path.includes(s.marker), 'the rest of the query passed');
      const e = await assertNowhereRecorded(s, [key]);
      assert.ok(e._airlock.stripped.includes(label), `stripped ${JSON.stringify(e._airlock.stripped)}`);
    });
  }

  test('a 32-hex key in the path of an unknown endpoint is forwarded but redacted in the recording and the log', async () => {
    const key = hex(16);
    const s = await send((m) => head([`GET /api/v1/foo/${key}?${m} HTTP/1.1`]));
    assert.equal(s.upstream.length, 1);
    assert.ok(s.upstream[0]!.path.includes(key), 'a key-shaped path segment is forwarded as it is');
    const e = await assertNowhereRecorded(s, [key]);
    assert.match(e.request.url, /\/api\/v1\/foo\/%5Bredacted%3A/);
  });

  test('a 40-hex key and a ddapp_ key in a JSON body are forwarded but redacted in the recording, echo included', async () => {
    const app = hex(20);
    const ddapp = `ddapp_${randomBytes(17).toString('hex')}`;
    const body = JSON.stringify({ title: app, layout_type: 'ordered', widgets: [], description: `key ${ddapp}.` });
    const s = await send((m) => head([`POST /api/v1/dashboard?${m} HTTP/1.1`, 'Content-Type: application/json'], body));
    assert.equal(parseResponses(s.response).status, 200, s.response);
    assert.equal(s.upstream.length, 1);
    assert.ok(s.upstream[0]!.body.toString('utf8').includes(app), 'the body is forwarded as it is');
    await assertNowhereRecorded(s, [app, ddapp]);
  });

  test("another job's alk_ session token in a header and a JSON body is forwarded but nowhere recorded or logged, echo included", async () => {
    // Shape of identity/session-token.ts: alk_ and 43 base64url characters; this one has a - and a _ in it.
    const alk = `alk_${randomBytes(32).toString('base64url').slice(0, 41)}-_`;
    const glued = `alk_${randomBytes(32).toString('base64url')}`;
    const body = JSON.stringify({ title: `echoed ${alk}`, layout_type: 'ordered', widgets: [], description: `again x${glued}` });
    const s = await send((m) => head([`POST /api/v1/dashboard?${m} HTTP/1.1`, 'Content-Type: application/json', `X-Request-Note: was ${alk}`], body));
    assert.equal(parseResponses(s.response).status, 200, s.response);
    assert.ok(s.upstream[0]!.body.toString('utf8').includes(alk), 'the body is forwarded as it is');
    assert.ok(s.response.includes(alk), 'the upstream echoes it');
    const e = await assertNowhereRecorded(s, [alk, glued, alk.slice(4), glued.slice(4)]);
    assert.ok(JSON.stringify(e.request.headers).includes('[redacted:session token]'), JSON.stringify(e.request.headers));
  });

  test('a raw JWT in the path is forwarded but appears in no log line and no recording', async () => {
    const other = await a.issuer.mint({ repository_id: '999', ref: 'refs/heads/x' });
    tokens.push(other);
    const s = await send((m) => head([`GET /api/v1/foo/${other}?${m} HTTP/1.1`]));
    assert.equal(s.upstream.length, 1);
    await assertNowhereRecorded(s, [other, other.split('.')[2]!]);
  });

  test('the process is still alive and a normal request still works', async () => {
    const s = await send((m) => head([`GET /api/v1/validate?${m} HTTP/1.1`]));
    assert.equal(parseResponses(s.response).status, 200, s.response);
    assert.equal(a.child?.exitCode, null);
  });
});

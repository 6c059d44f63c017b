// Shared by the request-path adversarial tests: a raw request inside the tunnel with its parsed
// answer, the sessions' HARs as `airlock sessions export` gives them, and the places a secret must
// never reach (what Datadog received, every HAR and journal byte on disk, the logs).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Airlock } from '../fixtures/airlock-process.js';
import { openRawTunnel } from '../fixtures/raw-tls.js';
import { parseResponses, type HttpResult } from '../fixtures/refusal-helpers.js';

export interface HarEntry {
  request: { method: string; url: string; headers: { name: string; value: string }[]; postData?: { text: string } };
  response: { status: number };
  _airlock: { decision: string; errorCode?: string; stripped?: string[]; session?: string };
  _error?: string;
}

/** Sends `request` (one request, bytes as given) in a fresh tunnel and parses the first complete answer. */
export async function exchange(a: Airlock, token: string | undefined, request: string | Buffer, ms = 5_000): Promise<HttpResult> {
  const t = await openRawTunnel({ port: a.port, ca: readFileSync(a.caPath, 'utf8'), ...(token ? { proxyAuth: `Bearer ${token}` } : {}) });
  try {
    t.socket.write(request);
    const got = await t.readUntil((b) => complete(b.toString('latin1')), ms);
    return parseResponses(got.toString('latin1'));
  } finally {
    t.end();
  }
}

/** A whole response with Content-Length (all of Airlock's and the fake Datadog's have one). */
function complete(text: string): boolean {
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) return false;
  const m = /\r\ncontent-length:\s*(\d+)/i.exec(text.slice(0, end + 2));
  if (!m) return /^HTTP\/1\.1 (1\d\d|204|304)/.test(text);
  return Buffer.byteLength(text.slice(end + 4), 'latin1') >= Number(m[1]);
}

export async function openSessionIds(a: Airlock): Promise<string[]> {
  const r = await a.cli(['sessions', 'ls', '--json']);
  assert.equal(r.code, 0, r.stderr);
  return (JSON.parse(r.stdout) as { id: string; status: string }[]).filter((s) => s.status === 'open').map((s) => s.id);
}

export async function harOf(a: Airlock, id: string): Promise<HarEntry[]> {
  const r = await a.cli(['sessions', 'export', id]);
  assert.equal(r.code, 0, r.stderr);
  return (JSON.parse(r.stdout) as { log: { entries: HarEntry[] } }).log.entries;
}

/** Every entry of every open session. */
export async function allEntries(a: Airlock): Promise<HarEntry[]> {
  const out: HarEntry[] = [];
  for (const id of await openSessionIds(a)) out.push(...(await harOf(a, id)));
  return out;
}

/** Every file under the sessions directory (journals, HARs, index), as text. */
export function sessionFiles(a: Airlock): string[] {
  const dir = join(a.stateDir, 'sessions');
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else out.push(readFileSync(join(d, e.name), 'latin1'));
    }
  };
  walk(dir);
  return out;
}

/** `value` is nowhere Datadog, the recording or the logs could show it. */
export function assertNowhere(a: Airlock, value: string, since: number, clientTexts: readonly string[] = []): void {
  for (const r of a.datadog.received.slice(since)) {
    const seen = [r.path, r.rawHeaders.join('\n'), r.body.toString('latin1')].join('\n');
    assert.ok(!seen.includes(value), `Datadog received the value in ${r.method} ${r.path.replaceAll(value, '<V>')}`);
  }
  for (const text of sessionFiles(a)) assert.ok(!text.includes(value), 'the value is in a session file');
  for (const line of [...a.logs, ...a.stderr]) assert.ok(!line.includes(value), `the value is in the log: ${line.replaceAll(value, '<V>').slice(0, 300)}`);
  for (const t of clientTexts) assert.ok(!t.includes(value), 'the value reached the client');
}

export function chunked(body: string, sizes: readonly number[] = [body.length]): string {
  let out = '';
  let at = 0;
  for (const n of sizes) {
    if (at >= body.length) break;
    const piece = body.slice(at, at + n);
    at += piece.length;
    out += `${piece.length.toString(16)}\r\n${piece}\r\n`;
  }
  if (at < body.length) out += `${(body.length - at).toString(16)}\r\n${body.slice(at)}\r\n`;
  return `${out}0\r\n\r\n`;
}

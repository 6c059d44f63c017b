import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { statfsSync, closeSync, existsSync, ftruncateSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { CLI, run, startAirlock, type Airlock, type AirlockOptions } from '../fixtures/airlock-process.js';
import { assertNoSecrets, assertRefusal, parseResponses } from '../fixtures/refusal-helpers.js';
import { waitFor } from '../fixtures/wait-for.js';
import { rawTlsExchange } from '../fixtures/raw-tls.js';
import { suiteSkip } from '../fixtures/skip-outside-ci.js';

// Finding 8 of issue #11: the disk fills between the `begin` line (small, fits) and the
// exchange's record (large, does not). The request has then reached the upstream, so the
// client must not be told "nothing was forwarded", the recording must say "forwarded, response
// not recorded" (not "Airlock stopped before the exchange completed"), and the session takes no
// new exchange until that can be written.
//
// The disk is real: a holder process owns a private mount namespace (`unshare -m`) with a 4 MiB
// tmpfs over the sessions dir, and `airlock serve` runs inside it (nsenter), so the tmpfs outlives
// a restart; it is gone when the holder ends, at cleanup or with this process. The test reaches
// the tmpfs through /proc/<holder>/root and runs the reading CLI commands inside it. Root only.

const BIG = 600_000;
const TMPFS_MAGIC = 0x01021994;
const asRoot = process.getuid?.() === 0;

interface SmallDisk {
  readonly a: Airlock;
  readonly sessions: string;
  readonly token: string;
  /** A path as the serve process sees it (its mount namespace). */
  inNs(p: string): string;
  /** Fills the tmpfs with a file until ENOSPC, then gives `leave` bytes back. */
  fill(leave: number): void;
  freeAll(): void;
  send(method: string, path: string, extraHeaders?: string): Promise<string>;
  cliInNs(args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  /** Stops airlock, then the namespace holder: the tmpfs is gone afterwards. */
  cleanup(): Promise<void>;
}

async function startOnSmallDisk(opts: AirlockOptions = {}): Promise<SmallDisk> {
  let sessions = '';
  let holder: ChildProcess | undefined;
  // The namespace (and its tmpfs) belongs to a holder process, so that it outlives a restart of
  // `airlock serve`; the holder ends when its stdin closes, so it dies with this test too.
  const startHolder = (): ChildProcess =>
    spawn(
      'unshare',
      [
        '-m',
        '--propagation',
        'private',
        'sh',
        '-c',
        'mkdir -p -m 0700 "$1" && mount -t tmpfs -o size=4m,mode=0700 airlock-record-failure "$1" && exec cat >/dev/null',
        'sh',
        sessions,
      ],
      { stdio: ['pipe', 'ignore', 'inherit'] },
    );
  const a = await startAirlock({
    ...opts,
    wrapServe: (argv, stateDir) => {
      sessions = join(stateDir, 'sessions');
      holder ??= startHolder();
      return [
        'sh',
        '-c',
        // Wait for the holder's mount, then run serve inside its mount namespace.
        'for i in $(seq 100); do nsenter -t "$1" -m mountpoint -q "$2" && break; sleep 0.05; done; nsenter -t "$1" -m mountpoint -q "$2" || exit 97; p=$1; shift 2; exec nsenter -t "$p" -m -- "$@"',
        'sh',
        String(holder.pid),
        sessions,
        ...argv,
      ];
    },
  });
  const pid = holder!.pid!;
  const token = await a.issuer.mint({ repository_id: '123456', ref: 'refs/heads/main' });
  const inNs = (p: string): string => `/proc/${pid}/root${p}`;
  const fillers: string[] = [];
  const ca = readFileSync(a.caPath, 'utf8');
  return {
    a,
    sessions,
    token,
    inNs,
    fill(leave) {
      // Never fill a real disk: only the small tmpfs of this test.
      const fs = statfsSync(inNs(sessions));
      assert.ok(fs.type === TMPFS_MAGIC && fs.blocks * fs.bsize <= 4 * 1024 * 1024, "the sessions dir is the test's small tmpfs");
      const path = inNs(join(sessions, `filler-${fillers.length}`));
      fillers.push(path);
      const fd = openSync(path, 'w', 0o600);
      const chunk = Buffer.alloc(64 * 1024, 0x2e);
      let size = 0;
      try {
        for (;;) size += writeSync(fd, chunk);
      } catch (err) {
        if ((err as { code?: string }).code !== 'ENOSPC') throw err;
        // The last chunk may have landed partly: take what is left byte by byte.
        for (;;) {
          try {
            size += writeSync(fd, chunk, 0, 1);
          } catch {
            break;
          }
        }
      }
      ftruncateSync(fd, Math.max(0, size - leave));
      closeSync(fd);
    },
    freeAll() {
      for (const f of fillers.splice(0)) rmSync(f, { force: true });
    },
    send: (method, path, extraHeaders = '') =>
      rawTlsExchange({
        port: a.port,
        ca,
        proxyAuth: `Bearer ${token}`,
        request: `${method} ${path} HTTP/1.1\r\nHost: api.datadoghq.com\r\nDD-API-KEY: 0123456789abcdef0123456789abcdef\r\n${extraHeaders}Connection: close\r\n\r\n`,
        ms: 10_000,
      }),
    cliInNs: (args) => run('nsenter', ['-t', String(pid), '-m', process.execPath, CLI, ...args, '--config', a.configPath], { timeoutMs: 60_000 }),
    async cleanup() {
      await a.cleanup();
      const h = holder;
      if (h && h.exitCode === null && h.signalCode === null) {
        await new Promise<void>((resolve) => {
          h.once('exit', () => resolve());
          h.stdin?.end();
        });
      }
    },
  };
}

// Root without CAP_SYS_ADMIN (some containers) cannot make the namespace either: probe it.
const canMount =
  asRoot &&
  spawnSync('unshare', ['-m', '--propagation', 'private', 'mount', '-t', 'tmpfs', '-o', 'size=4k', 'probe', tmpdir()], { stdio: 'ignore' }).status === 0;
const skip = suiteSkip(!canMount && 'needs root with a private mount namespace and tmpfs (unshare -m)');

describe('a response that cannot be recorded after its request was forwarded', { skip }, () => {
  let d: SmallDisk;
  before(async () => {
    d = await startOnSmallDisk();
  });
  after(async () => {
    await d?.cleanup();
  });

  test('the client gets 502 RECORDING_INCOMPLETE, the session refuses the next exchange until the disk has room, and the HAR says forwarded-response-not-recorded', async () => {
    const { a, sessions, token, inNs, fill, freeAll, cliInNs } = d;
    const send = (path: string, extra?: string): Promise<string> => d.send('GET', path, extra);
    // A normal exchange opens the session (and shows the setup works).
    const first = parseResponses(await send('/api/v1/validate'));
    assert.equal(first.status, 200, first.raw);
    const journal = readdirSync(inNs(sessions)).find((n) => n.endsWith('.jsonl'));
    assert.ok(journal, 'an open session journal on the tmpfs');
    const id = journal.slice(0, -'.jsonl'.length);

    // One free page (plus the journal's last page's slack): room for the small begin line, not
    // for the 600 kB response, nor for the short line that replaces it (it keeps the request's
    // headers, padded here past a page): only the space reserve Airlock gives up makes room for it.
    fill(4096);
    const upstreamBefore = a.datadog.received.length;
    const big = parseResponses(await send(`/bigjson?bytes=${BIG}`, `X-Pad: ${'p'.repeat(8192)}\r\n`));
    assert.equal(a.datadog.received.length, upstreamBefore + 1, 'the request reached the upstream exactly once');
    assert.equal(`${big.status} ${big.headers['x-airlock-error']}`, '502 RECORDING_INCOMPLETE', big.body);
    assertRefusal(big, 502, 'RECORDING_INCOMPLETE');
    assert.ok(!big.raw.includes('yyyyyyyy'), 'no byte of the unrecorded upstream body reached the client');
    const journalPath = inNs(join(sessions, journal));
    const pendingJournal = readFileSync(journalPath, 'utf8');
    assert.match(pendingJournal, /"type":"begin"[^\n]*bigjson/, 'the begin line is there');
    assert.ok(pendingJournal.endsWith('}\n'), 'the journal ends on a whole line: the torn record was cut off');
    assert.match(pendingJournal, /"type":"exchange"[^\n]*forwarded, response not recorded/, 'the short line is on disk before the client hears of it');
    assert.ok(!existsSync(inNs(join(sessions, '.space-reserve'))), 'the reserve was given up for it');

    // Disk entirely full: the next exchange of the session is refused before it goes upstream,
    // since the reserve cannot be taken back.
    fill(0);
    const refused = parseResponses(await send('/api/v1/validate'));
    assertRefusal(refused, 503, 'RECORDING_FAILED');
    assert.equal(a.datadog.received.length, upstreamBefore + 1, 'nothing more reached the upstream');

    // Room again: the same session goes on.
    freeAll();
    const again = parseResponses(await send('/api/v1/validate'));
    assert.equal(again.status, 200, again.raw);
    assert.equal(a.datadog.received.length, upstreamBefore + 2);

    const closed = await a.cli(['sessions', 'close', id]);
    assert.equal(closed.code, 0, closed.stderr);
    const exported = await cliInNs(['sessions', 'export', id]);
    assert.equal(exported.code, 0, exported.stderr);
    const har = JSON.parse(exported.stdout) as {
      log: { entries: Array<{ request: { url: string }; response: { status: number }; _error?: string; _airlock: { errorCode?: string } }> };
    };
    const urls = har.log.entries.map((e) => e.request.url);
    assert.deepEqual(
      urls,
      ['https://api.datadoghq.com/api/v1/validate', `https://api.datadoghq.com/bigjson?bytes=${BIG}`, 'https://api.datadoghq.com/api/v1/validate'],
      'the refused exchange was never begun; the others are there once each',
    );
    const lost = har.log.entries[1]!;
    assert.match(lost._error ?? '', /^forwarded, response not recorded/);
    assert.match(lost._error ?? '', /upstream answered 200/);
    assert.equal(lost._airlock.errorCode, 'RECORDING_INCOMPLETE');
    assert.ok(!JSON.stringify(har).includes('stopped before the exchange completed'), JSON.stringify(har).slice(0, 2000));
    const verified = await cliInNs(['sessions', 'verify', join(sessions, `${id}.har`)]);
    assert.equal(verified.code, 0, `${verified.stdout}${verified.stderr}`);

    await waitFor('the request line with the code', () => a.logs.find((l) => /"code":"RECORDING_INCOMPLETE"/.test(l) && /"msg":"request"/.test(l)));
    assertNoSecrets(a, [token], [exported.stdout, big.raw, refused.raw]);
    assert.equal(a.child?.exitCode, null, 'the process is alive');
  });
});

describe('a request held for approval when its begin line cannot be written', { skip }, () => {
  let d: SmallDisk;
  before(async () => {
    d = await startOnSmallDisk({
      grantPolicy: 'holds',
      config: { policies: { holds: { default: 'allow', rules: [{ match: 'DELETE /api/v1/dashboard/*', action: 'approve' }] } }, approvals: { timeout: '3s' } },
    });
  });
  after(async () => {
    await d?.cleanup();
  });

  test('is refused with 503 RECORDING_FAILED, is never held, and nothing reaches the upstream', async () => {
    const { a, token, fill, freeAll } = d;
    const first = parseResponses(await d.send('GET', '/api/v1/validate'));
    assert.equal(first.status, 200, first.raw);
    fill(0);
    const upstreamBefore = a.datadog.received.length;
    // A begin line longer than a page: it cannot hide in the slack of the journal's last page.
    const r = parseResponses(await d.send('DELETE', `/api/v1/dashboard/abc-123?note=${'n'.repeat(6000)}`, 'Content-Length: 0\r\n'));
    assertRefusal(r, 503, 'RECORDING_FAILED');
    assert.equal(a.datadog.received.length, upstreamBefore);
    const held = await a.cli(['approvals', 'ls', '--json']);
    assert.equal(held.code, 0, held.stderr);
    assert.deepEqual(JSON.parse(held.stdout), [], 'nothing waits for an approver');
    freeAll();
    const again = parseResponses(await d.send('GET', '/api/v1/validate'));
    assert.equal(again.status, 200, again.raw);
    assertNoSecrets(a, [token], [r.raw]);
  });
});

describe('a crash right after a response could not be recorded', { skip }, () => {
  let d: SmallDisk;
  before(async () => {
    d = await startOnSmallDisk();
  });
  after(async () => {
    await d?.cleanup();
  });

  test('recovery writes forwarded-response-not-recorded for that exchange, not "Airlock stopped before the exchange completed"', async () => {
    const { a, sessions, token, inNs, fill, freeAll, cliInNs } = d;
    const first = parseResponses(await d.send('GET', '/api/v1/validate'));
    assert.equal(first.status, 200, first.raw);
    const journal = readdirSync(inNs(sessions)).find((n) => n.endsWith('.jsonl'));
    assert.ok(journal);
    const id = journal.slice(0, -'.jsonl'.length);
    fill(4096);
    const upstreamBefore = a.datadog.received.length;
    const big = parseResponses(await d.send('GET', `/bigjson?bytes=${BIG}`, `X-Pad: ${'p'.repeat(8192)}\r\n`));
    assertRefusal(big, 502, 'RECORDING_INCOMPLETE');
    assert.equal(a.datadog.received.length, upstreamBefore + 1);

    // Killed while the disk is still full; the operator frees space and starts it again.
    await a.stop('SIGKILL');
    freeAll();
    await a.start();
    await waitFor('the recovery of the session', () => a.logs.find((l) => /recovered an orphaned session journal/.test(l) && l.includes(id)));
    const exported = await cliInNs(['sessions', 'export', id]);
    assert.equal(exported.code, 0, exported.stderr);
    const har = JSON.parse(exported.stdout) as { log: { entries: Array<{ request: { url: string }; _error?: string; _airlock: { errorCode?: string } }> } };
    const lost = har.log.entries.find((e) => e.request.url.includes('/bigjson'));
    assert.match(lost?._error ?? '', /^forwarded, response not recorded: the upstream answered 200/);
    assert.equal(lost?._airlock.errorCode, 'RECORDING_INCOMPLETE');
    assert.equal(har.log.entries.length, 2);
    assert.ok(!exported.stdout.includes('stopped before the exchange completed'));
    const verified = await cliInNs(['sessions', 'verify', join(sessions, `${id}.har`)]);
    assert.equal(verified.code, 0, `${verified.stdout}${verified.stderr}`);

    const again = parseResponses(await d.send('GET', '/api/v1/validate'));
    assert.equal(again.status, 200, again.raw);
    assertNoSecrets(a, [token], [exported.stdout, big.raw]);
  });
});

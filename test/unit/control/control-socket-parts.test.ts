import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isAirlockError } from '../../../appliance/errors.js';
import { createLogger } from '../../../appliance/log.js';
import { parseControlPath } from '../../../appliance/control/parse-control-path.js';
import { prepareSocketPath } from '../../../appliance/control/prepare-socket-path.js';

const log = createLogger({ level: 'silent' });

test('control paths decode per segment; bad escapes, queries and non-origin forms are BAD_REQUEST, never a URIError', () => {
  assert.deepEqual(parseControlPath('/v1/sessions/a%2Fb/close'), ['v1', 'sessions', 'a/b', 'close']);
  for (const bad of ['/v1/sessions/%E0%A4%A/close', '/%', '/%ZZ', '/%C0%AF', '/v1/approvals?x=1', 'http://x/v1', '', '*', `/${'a'.repeat(3_000)}`]) {
    assert.throws(
      () => parseControlPath(bad),
      (err: unknown) => isAirlockError(err) && err.code === 'BAD_REQUEST',
      bad,
    );
  }
  assert.throws(
    () => parseControlPath(undefined),
    (err: unknown) => isAirlockError(err) && err.code === 'BAD_REQUEST',
  );
});

test('preparing the socket path makes a missing directory 0700, removes a stale socket, and never deletes another file', async () => {
  const base = mkdtempSync(join(tmpdir(), 'airlock-ctl-'));
  try {
    const sock = join(base, 'run', 'control.sock');
    await prepareSocketPath(sock, null, log);
    assert.equal(statSync(join(base, 'run')).mode & 0o777, 0o700);
    // A socket inode left behind, as after a crash (Node unlinks its own on close; python does not).
    execFileSync('python3', ['-c', 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])', sock]);
    assert.ok(statSync(sock).isSocket());
    await prepareSocketPath(sock, null, log);
    assert.equal(existsSync(sock), false, 'the stale socket is gone');
    const file = join(base, 'run', 'notes.txt');
    writeFileSync(file, 'keep me');
    await assert.rejects(prepareSocketPath(file, null, log), /exists and is not a socket/);
    assert.equal(existsSync(file), true);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

// Issue 16: the control socket answers in the proxy's error shape, and the CLI's client reads the
// code and the words from it (a real control server on a socket in a temp dir).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ERRORS } from '../../../appliance/errors.js';
import { createLogger } from '../../../appliance/log.js';
import { callControl } from '../../../appliance/control/control-client.js';
import { startControlServer } from '../../../appliance/control/control-server.js';

test('a control refusal reaches the client as its table code and message; a success as its body', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-ctl-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const sock = join(dir, 'control.sock');
  const server = await startControlServer(sock, {
    sessions: { isOpen: (id) => id === 'open-1', close: async (id) => `${id}.har` },
    log: createLogger({ level: 'silent' }),
  });
  t.after(() => server.close());

  const missing = await callControl(sock, 'POST', '/v1/sessions/gone/close');
  assert.equal(missing?.status, 404);
  assert.equal(missing?.code, 'SESSION_NOT_OPEN');
  assert.ok(missing?.message?.startsWith(ERRORS.SESSION_NOT_OPEN.message), missing?.message);
  assert.match(missing?.message ?? '', /no open session "gone"/);
  assert.deepEqual(Object.keys(missing?.body ?? {}), ['errors']);

  const unknown = await callControl(sock, 'GET', '/v2/nothing');
  assert.equal(unknown?.code, 'NOT_FOUND');

  const closed = await callControl(sock, 'POST', '/v1/sessions/open-1/close');
  assert.equal(closed?.status, 200);
  assert.deepEqual(closed?.body, { id: 'open-1', har: 'open-1.har' });
  assert.equal(closed?.code, undefined);

  assert.equal(await callControl(join(dir, 'none.sock'), 'GET', '/v1/approvals'), null);
});

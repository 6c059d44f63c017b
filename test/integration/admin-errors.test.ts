// The admin listener's refusals, asked for with curl: the same shape as every other Airlock
// refusal (errors.ts toErrorResponse): a JSON body naming the error, X-Airlock-Error with its
// stable code, and the status from the error table.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Writable } from 'node:stream';
import { startAirlock, type Airlock } from '../fixtures/airlock-process.js';
import { startAdminServer } from '../../appliance/metrics/admin-server.js';
import { AirlockMetrics } from '../../appliance/metrics/metrics.js';
import { createLogger } from '../../appliance/log.js';
import { ERRORS } from '../../appliance/errors.js';

const exec = promisify(execFile);
let a: Airlock;
let adminPort = 0;

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** curl -i: the status line, the headers (lower-cased names) and the body. */
async function curl(port: number, path: string, extra: readonly string[] = []): Promise<Answer> {
  const { stdout } = await exec('curl', ['-sS', '-i', '--max-time', '10', ...extra, `http://127.0.0.1:${port}${path}`]);
  const cut = stdout.indexOf('\r\n\r\n');
  const [statusLine = '', ...lines] = stdout.slice(0, cut).split('\r\n');
  const headers: Record<string, string> = {};
  for (const l of lines) {
    const i = l.indexOf(':');
    headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
  }
  return { status: Number(statusLine.split(' ')[1]), headers, body: stdout.slice(cut + 4) };
}

function assertRefusal(r: Answer, code: keyof typeof ERRORS): void {
  assert.equal(r.status, ERRORS[code].status, r.body);
  assert.equal(r.headers['x-airlock-error'], code);
  assert.equal(r.headers['content-type'], 'application/json');
  assert.deepEqual(JSON.parse(r.body), { errors: [`airlock: ${ERRORS[code].message}`] });
}

before(async () => {
  a = await startAirlock();
  const line = a.logs.find((l) => l.includes('admin listener'));
  assert.ok(line, 'the server logs where its admin listener is');
  adminPort = (JSON.parse(line) as { port: number }).port;
});

after(async () => {
  await a?.cleanup();
});

test('an unknown admin path is a JSON 404 ADMIN_NOT_FOUND', async () => {
  assertRefusal(await curl(adminPort, '/nope?x=1'), 'ADMIN_NOT_FOUND');
});

test('a wrong method is a JSON 405 ADMIN_METHOD with Allow: GET, HEAD', async () => {
  for (const m of ['POST', 'DELETE', 'PUT']) {
    const r = await curl(adminPort, '/metrics', ['-X', m, '--data', 'x']);
    assertRefusal(r, 'ADMIN_METHOD');
    assert.equal(r.headers['allow'], 'GET, HEAD', m);
  }
});

test('the endpoints themselves answer as before', async () => {
  const h = await curl(adminPort, '/healthz');
  assert.equal(h.status, 200);
  assert.deepEqual(JSON.parse(h.body), { status: 'ok' });
  const m = await curl(adminPort, '/metrics');
  assert.equal(m.status, 200);
  assert.match(m.headers['content-type'] ?? '', /^text\/plain/);
});

test('an endpoint that fails is a JSON 500 ADMIN_FAILED, and the log says why', async () => {
  // The one stand-in: a readiness check that fails (a real one fails only when the machine does).
  const lines: string[] = [];
  const log = createLogger({
    destination: new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(chunk.toString('utf8'));
        cb();
      },
    }),
  });
  const admin = await startAdminServer(
    { host: '127.0.0.1', port: 0 },
    { metrics: new AirlockMetrics({ hostClass: () => 'datadog', grants: [] }), log, ready: () => Promise.reject(new Error('probe broke')) },
  );
  try {
    assertRefusal(await curl(admin.port, '/readyz'), 'ADMIN_FAILED');
    assert.ok(
      lines.some((l) => l.includes('admin endpoint failed') && l.includes('probe broke')),
      lines.join(''),
    );
  } finally {
    await admin.close();
  }
});

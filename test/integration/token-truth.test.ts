// Issue 12: a refused token is told which check failed, through a real `airlock serve` and a real
// client (curl); an issuer whose keys cannot be fetched is a 503 ISSUER_UNAVAILABLE, not a 403
// that blames the job.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startAirlock, run, type Airlock } from '../fixtures/airlock-process.js';

let a: Airlock;
before(async () => {
  a = await startAirlock();
});
after(async () => {
  await a?.cleanup();
});

async function curl(token: string): Promise<{ status: number; body: string }> {
  const r = await run(
    'curl',
    [
      '-sS',
      '-o',
      '-',
      '-w',
      '\n%{http_code}',
      '--proxy',
      a.proxyUrl,
      '--cacert',
      a.caPath,
      '-H',
      `DD-API-KEY: ${token}`,
      'https://api.datadoghq.com/api/v1/validate',
    ],
    { env: { NO_PROXY: '' } },
  );
  const i = r.stdout.lastIndexOf('\n');
  return { status: Number(r.stdout.slice(i + 1)), body: r.stdout.slice(0, i) };
}

test('an unreachable issuer is 503 ISSUER_UNAVAILABLE, and the job is told to retry', async () => {
  a.issuer.setDown(true);
  try {
    const r = await curl(await a.issuer.mint({ run_id: 'iu-1' }));
    assert.equal(r.status, 503, r.body);
    assert.match(r.body, /airlock: the token's issuer could not be reached .*retry in a moment/);
    assert.doesNotMatch(r.body, /mint a fresh/);
  } finally {
    a.issuer.setDown(false);
  }
});

test('a wrong audience is 403 TOKEN_INVALID naming the expected and the received audience', async () => {
  const r = await curl(await a.issuer.mint({ run_id: 'iu-2' }, { audience: 'someone-else' }));
  assert.equal(r.status, 403);
  assert.match(r.body, /wrong audience: expected \\"airlock\\", the token has \\"someone-else\\"/);
});

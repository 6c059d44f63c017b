// A HAR written by SessionStore must pass har-schema AND open in Chrome's real DevTools importer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SessionStore } from '../../appliance/recording/session/index.js';
import { refusalResponse } from '../../appliance/recording/journal/index.js';
import { AirlockError } from '../../appliance/errors.js';
import { importInDevTools } from '../fixtures/devtools-import.js';
import { validateHar } from '../fixtures/har-validate.js';
import { AGENT_KEY, body, exchange, gzipResponse, identity, memoryLogger, SECRETS, secretValuesIn } from '../unit/recording/exchange-fixtures.js';

async function realisticHar(): Promise<{ har: { log: { entries: Array<Record<string, unknown>> } }; text: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'airlock-har-'));
  const { log } = memoryLogger();
  const store = new SessionStore({ sessionsDir: dir, maxBodyBytes: 64, idleTimeoutMs: 60_000, log, creatorVersion: '0.1.0' });
  try {
    const meta = await store.ensure(identity());
    const at = (s: number) => `2026-11-22T03:15:0${s}.000Z`;
    const record = async (id: string, ex: ReturnType<typeof exchange>) => {
      await store.begin(meta.id, { id, startedDateTime: ex.startedDateTime, method: ex.request.method, url: ex.request.url }, SECRETS);
      await store.record(meta.id, { ...ex, id }, SECRETS);
    };
    await record('json', exchange({ url: `https://api.datadoghq.com/api/v2/series?api_key=${AGENT_KEY}` }));
    await record(
      'gzip',
      exchange({ method: 'GET', url: 'https://api.datadoghq.com/api/v1/monitor', reqBody: null, response: gzipResponse('{"monitors":[{"id":1}]}') }),
    );
    await record(
      'binary',
      exchange({
        url: 'https://api.datadoghq.com/api/v2/logs',
        reqHeaders: [['Content-Type', 'application/octet-stream']],
        reqBody: body(Buffer.from([0, 159, 146, 150, 0, 1])),
        response: {
          status: 200,
          statusText: 'OK',
          httpVersion: 'HTTP/1.1',
          headers: [['Content-Type', 'image/png']],
          body: body(Buffer.from([137, 80, 78, 71, 0, 0])),
        },
      }),
    );
    await record(
      'truncated',
      exchange({
        url: 'https://api.datadoghq.com/api/v1/events',
        reqBody: body('{"title":"' + 'x'.repeat(50), { size: 5000, truncated: true }),
        response: {
          status: 200,
          statusText: 'OK',
          httpVersion: 'HTTP/1.1',
          headers: [['Content-Type', 'application/json']],
          body: body('['.repeat(64), { size: 100_000, truncated: true }),
        },
      }),
    );
    // A refusal, recorded as Airlock answered it (recording/refusal-response.ts).
    await record('refused', {
      ...exchange({
        url: 'https://api.datadoghq.com/api/v1/monitor',
        response: refusalResponse(new AirlockError('POLICY_DENIED', 'monitors are owned by the SRE team')),
      }),
      airlock: { decision: 'denied', code: 'POLICY_DENIED', errorCode: 'POLICY_DENIED', forwarded: false, stripped: [], injected: [] },
    });
    await record(
      'failed',
      exchange({ url: 'https://api.datadoghq.com/api/v1/validate', method: 'GET', reqBody: null, response: null, error: 'upstream unreachable: ECONNREFUSED' }),
    );
    // Begun, never recorded: finalized as a no-response entry.
    await store.begin(meta.id, { id: 'cut', startedDateTime: at(9), method: 'GET', url: 'https://api.datadoghq.com/api/v1/slow' });
    const path = await store.close(meta.id, 'test');
    const text = await readFile(path ?? '', 'utf8');
    return { har: JSON.parse(text) as { log: { entries: Array<Record<string, unknown>> } }, text };
  } finally {
    await store.closeAll('test over');
    await rm(dir, { recursive: true, force: true });
  }
}

test('a SessionStore HAR with JSON, gzip, binary, truncated, refused and no-response entries passes har-schema and imports in Chrome DevTools, refusals with their status', async () => {
  const { har, text } = await realisticHar();
  assert.deepEqual(secretValuesIn(text), []);
  assert.deepEqual(validateHar(har), []);
  const imported = await importInDevTools(har);
  assert.equal(imported.requests, 7);
  assert.equal(imported.statuses[4], 403, 'the refusal shows as 403, not (pending)');
  assert.equal(imported.failed[4], false);
  assert.ok((imported.contentSizes[4] ?? 0) > 0, 'with its reason body');
  assert.deepEqual([imported.statuses[5], imported.statuses[6]], [0, 0], 'requests that got no answer stay status 0');
  assert.deepEqual(imported.urls, [
    'https://api.datadoghq.com/api/v2/series?api_key=%5Bredacted%3Aquery%20api_key%5D',
    'https://api.datadoghq.com/api/v1/monitor',
    'https://api.datadoghq.com/api/v2/logs',
    'https://api.datadoghq.com/api/v1/events',
    'https://api.datadoghq.com/api/v1/monitor',
    'https://api.datadoghq.com/api/v1/validate',
    'https://api.datadoghq.com/api/v1/slow',
  ]);
});

test('the DevTools importer check can fail: an entry without content.size is rejected', async () => {
  const { har } = await realisticHar();
  const response = har.log.entries[1]?.['response'] as { content: Record<string, unknown> };
  delete response.content['size'];
  assert.notDeepEqual(validateHar(har), []);
  await assert.rejects(importInDevTools(har), /DevTools rejected the HAR: .*NaN/);
});

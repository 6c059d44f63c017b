// The audit trail's pure decisions: chain verification on HARs built by streamHar, the index
// fold, ls filters, grep matching, replay planning and prune safety.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { globToRegExp, type HarEntry, parseStatus, streamHar } from '../../../appliance/recording/har/index.js';
import { canonicalJson, newChainOrigin, verifyChain } from '../../../appliance/recording/integrity/index.js';
import { chainLine, type SessionSummary } from '../../../appliance/recording/journal/index.js';
import { compilePrefilter, foldIndex, indexLine, linePrefilter, matchesFilter, parseWhen, selectLines } from '../../../appliance/recording/index/index.js';
import { compareKeys, planReplay } from '../../../appliance/replay/plan-replay.js';
import { pruneVerdict } from '../../../appliance/shipping/prune-sessions.js';
import { backoffMs } from '../../../appliance/shipping/outbox.js';
import type { Decision } from '../../../appliance/lib/decision.js';

const ID = '20261122T030000Z-0a1b2c3d';

async function har(n: number, tamperJournal?: (lines: string[]) => void): Promise<string> {
  const lines: string[] = [
    JSON.stringify({
      type: 'session',
      id: ID,
      key: 'k',
      issuer: 'github',
      iss: 'x',
      sub: 's',
      grant: 'g',
      credential: 'c',
      claims: {},
      openedAt: '2026-11-22T03:00:00.000Z',
      chain: { alg: 'sha256', origin: newChainOrigin() },
    }),
  ];
  for (let i = 0; i < n; i++) {
    lines.push(
      JSON.stringify({
        type: 'exchange',
        id: `x${i}`,
        startedDateTime: '2026-11-22T03:00:01.000Z',
        request: { method: 'GET', url: `https://api.datadoghq.com/api/v1/n${i}`, httpVersion: 'HTTP/1.1', headers: [], headersSize: 10, body: null },
        response: {
          status: 200,
          statusText: 'OK',
          httpVersion: 'HTTP/1.1',
          headers: [['content-type', 'application/json']],
          headersSize: 10,
          body: { wireSize: 9, capturedBytes: 9, contentSize: 9, truncated: false, text: `{"n":${i}}` },
        },
        timings: { blocked: -1, dns: -1, connect: -1, ssl: -1, send: 0, wait: 1, receive: 0 },
        airlock: { decision: 'forwarded', stripped: [], injected: [] },
      }),
    );
  }
  // Chain the journal lines as JournalWriter does.
  const { createHash } = await import('node:crypto');
  for (let i = 1; i < lines.length; i++)
    lines[i] = chainLine(
      lines[i]!,
      createHash('sha256')
        .update(lines[i - 1]!)
        .digest('hex'),
    );
  tamperJournal?.(lines);
  let out = '';
  await streamHar({
    sessionId: ID,
    fallbackMeta: null,
    closedAt: null,
    closeReason: null,
    creatorVersion: 't',
    lines: (async function* () {
      yield* lines;
    })(),
    write: async (c) => {
      out += c;
    },
  });
  return out;
}

test('a HAR built from an intact journal verifies, and records the journal chain as intact', async () => {
  const text = await har(3);
  assert.deepEqual(verifyChain(text), { ok: true, entries: 3, count: 3 });
  assert.equal((JSON.parse(text) as { log: { _airlock: { chain: { journal: { intact: boolean } } } } }).log._airlock.chain.journal.intact, true);
});

test('a journal line altered before finalize is reported in log._airlock.chain.journal at the next line', async () => {
  const text = await har(3, (lines) => {
    lines[2] = lines[2]!.replace('"n\\":1', '"n\\":7');
  });
  const j = (JSON.parse(text) as { log: { _airlock: { chain: { journal: { intact: boolean; firstBreakAtLine?: number } } } } }).log._airlock.chain.journal;
  assert.equal(j.intact, false);
  assert.equal(j.firstBreakAtLine, 4);
});

test('re-serialized (pretty-printed) HARs keep a valid chain: the hash is over canonical JSON', async () => {
  assert.equal(verifyChain(JSON.stringify(JSON.parse(await har(2)), null, 2)).ok, true);
  assert.equal(canonicalJson({ b: 1, a: [{ d: 2, c: null }] }), '{"a":[{"c":null,"d":2}],"b":1}');
});

test('an empty session verifies; a HAR without any chain fails with CHAIN_MISSING', async () => {
  assert.equal(verifyChain(await har(0)).ok, true);
  assert.equal(verifyChain(JSON.stringify({ log: { entries: [] } })).problem?.code, 'CHAIN_MISSING');
  assert.equal(verifyChain('not json at all').problem?.code, 'NOT_A_HAR');
});

test('the first entry deleted is named entry 1 missing; the trailer head altered is HEAD_MISMATCH', async () => {
  const h = JSON.parse(await har(3)) as { log: { entries: unknown[]; _airlock: { chain: { head: string } } } };
  const first = structuredClone(h);
  first.log.entries.shift();
  assert.deepEqual(verifyChain(JSON.stringify(first)).problem?.entry, 1);
  const head = structuredClone(h);
  head.log._airlock.chain.head = '0'.repeat(64);
  assert.equal(verifyChain(JSON.stringify(head)).problem?.code, 'HEAD_MISMATCH');
});

const summary = (over: Partial<SessionSummary>): SessionSummary => ({
  id: ID,
  key: 'k',
  issuer: 'github',
  iss: 'x',
  sub: 's',
  grant: 'g',
  credential: 'c',
  claims: { repository_id: '123', run_attempt: 1 },
  openedAt: '2026-11-22T03:00:00.000Z',
  status: 'closed',
  closedAt: '2026-11-22T04:00:00.000Z',
  closeReason: 'idle',
  entryCount: 2,
  lastActivityAt: '2026-11-22T04:00:00.000Z',
  ...over,
});

test('the index keeps the last record per session, honours drops, and skips a torn last line', () => {
  const other = '20261122T030000Z-ffffffff';
  const text = [
    indexLine(summary({ status: 'open' })),
    indexLine(summary({})),
    indexLine(summary({ id: other })),
    JSON.stringify({ id: other, dropped: true }),
    indexLine(summary({ id: '20261122T030000Z-eeeeeeee' })).slice(0, 40),
  ].join('\n');
  const m = foldIndex(text.split('\n'));
  assert.deepEqual([...m.keys()], [ID]);
  assert.equal(m.get(ID)?.status, 'closed');
  assert.deepEqual(m.get(ID)?.claims, { repository_id: '123', run_attempt: 1 });
  assert.deepEqual(JSON.parse(JSON.stringify(m.get(ID))), summary({}), 'a row serializes back to the summary it came from');
});

test('ls filters: claims compare as strings, times are inclusive windows, durations count back from now', () => {
  const now = Date.parse('2026-11-22T05:00:00.000Z');
  const s = summary({});
  assert.equal(
    matchesFilter(s, {
      claims: [
        ['run_attempt', '1'],
        ['repository_id', '123'],
      ],
    }),
    true,
  );
  assert.equal(matchesFilter(s, { claims: [['repository_id', '12']] }), false);
  assert.equal(matchesFilter(s, { since: parseWhen('2h', now) }), true);
  assert.equal(matchesFilter(s, { since: parseWhen('1h', now) }), false);
  assert.equal(matchesFilter(s, { until: parseWhen('2026-11-22T03:00:00Z', now) }), true);
  assert.equal(matchesFilter(s, { status: 'open' }), false);
  assert.throws(() => parseWhen('soonish', now), { code: 'BAD_FILTER' });
});

test('grep globs keep * inside one segment and ** across; status takes codes, classes and lists', () => {
  assert.equal(globToRegExp('/api/v1/*').test('/api/v1/dashboard'), true);
  assert.equal(globToRegExp('/api/v1/*').test('/api/v1/dashboard/abc'), false);
  assert.equal(globToRegExp('/api/**').test('/api/v1/dashboard/abc'), true);
  assert.equal(globToRegExp('/a.b').test('/aXb'), false);
  // The policy's path patterns: `**` is a whole segment (zero of them too), case is ignored.
  assert.equal(globToRegExp('/api/**').test('/api'), true);
  assert.equal(globToRegExp('/API/V1/*').test('/api/v1/dashboard'), true);
  assert.throws(() => globToRegExp('/api/v1/dash**'), { code: 'BAD_QUERY' });
  const st = parseStatus('4xx,500');
  assert.deepEqual([399, 400, 403, 499, 500, 502].map(st), [false, true, true, true, true, false]);
  assert.throws(() => parseStatus('4x'), { code: 'BAD_QUERY' });
});

function entry(over: Partial<HarEntry> & { body?: string }): HarEntry {
  return {
    startedDateTime: '2026-11-22T03:00:00.000Z',
    time: 1,
    request: {
      method: 'POST',
      url: 'https://api.datadoghq.com/api/v1/series?api_key=%5Bredacted%3Aquery%20api_key%5D&from=1',
      httpVersion: 'HTTP/1.1',
      cookies: [],
      headers: [
        { name: 'DD-API-KEY', value: '[redacted:credential dd-prod api key]' },
        { name: 'X-Custom', value: 'keep' },
        { name: 'X-Leak', value: 'Bearer [redacted:agent credential]' },
        { name: 'Content-Length', value: '99' },
      ],
      queryString: [],
      headersSize: 1,
      bodySize: 2,
      ...(over.body !== undefined ? { postData: { mimeType: 'application/json', text: over.body } } : {}),
    },
    response: {
      status: 200,
      statusText: 'OK',
      httpVersion: 'HTTP/1.1',
      cookies: [],
      headers: [],
      content: { size: 0, mimeType: 'application/json' },
      redirectURL: '',
      headersSize: 1,
      bodySize: 0,
    },
    cache: {},
    timings: { blocked: -1, dns: -1, connect: -1, ssl: -1, send: 0, wait: 0, receive: 0 },
    _resourceType: 'fetch',
    _airlock: { decision: 'forwarded', forwarded: true, stripped: [], injected: [] },
    ...over,
  };
}

test('replay plans never carry a placeholder: such headers and query parameters are dropped, credential headers always', () => {
  const p = planReplay(entry({ body: '{"a":1}' }));
  assert.equal(p.kind, 'send');
  if (p.kind !== 'send') return;
  assert.equal(p.pathAndQuery, '/api/v1/series?from=1');
  assert.deepEqual(p.headers, ['X-Custom', 'keep', 'accept-encoding', 'identity', 'content-length', '7']);
  assert.equal(p.body?.toString(), '{"a":1}');
});

test('replay sends only what reached Datadog: policy-denied, approver-denied, key-management and unknown exchanges are skipped with their reason', () => {
  const refusal = (decision: Decision, code: string) =>
    entry({ response: { ...entry({}).response, status: 403 }, _airlock: { decision, code, errorCode: code, forwarded: false, stripped: [], injected: [] } });
  for (const [decision, code] of [
    ['denied', 'POLICY_DENIED'],
    ['approval-denied', 'APPROVAL_DENIED'],
    ['refused', 'RATE_LIMITED'],
  ] as const) {
    const p = planReplay(refusal(decision, code));
    assert.equal(p.kind, 'skip', code);
    assert.match(p.kind === 'skip' ? p.reason : '', new RegExp(`\\(${code}\\): it never reached Datadog`));
  }
  // As recorded before this change: a policy denial with status 0 and no forwarded flag.
  const old = planReplay(
    entry({ response: { ...entry({}).response, status: 0 }, _airlock: { decision: 'denied', errorCode: 'POLICY_DENIED', stripped: [], injected: [] } }),
  );
  assert.equal(old.kind, 'skip');
  const unknown = planReplay(entry({ _airlock: { decision: 'forwarded', stripped: [], injected: [] } }));
  assert.match(unknown.kind === 'skip' ? unknown.reason : '', /does not say whether it reached Datadog/);
  const lost = planReplay(
    entry({
      response: { ...entry({}).response, status: 502 },
      _airlock: { decision: 'error', code: 'RECORDING_INCOMPLETE', forwarded: true, stripped: [], injected: [] },
    }),
  );
  assert.match(lost.kind === 'skip' ? lost.reason : '', /answer is not recorded \(RECORDING_INCOMPLETE\)/);
});

test('replay skips refused exchanges, truncated request bodies and bodies holding a placeholder, saying why', () => {
  const refused = planReplay(entry({ _airlock: { decision: 'refused', errorCode: 'NO_GRANT', stripped: [], injected: [] } }));
  assert.match(refused.kind === 'skip' ? refused.reason : '', /refused by Airlock when recorded \(NO_GRANT\)/);
  const cut = planReplay(
    entry({
      body: '{"a":',
      _airlock: {
        decision: 'forwarded',
        forwarded: true,
        stripped: [],
        injected: [],
        truncated: { request: true, requestBodySize: 10, requestBytesRecorded: 5 },
      },
    }),
  );
  assert.match(cut.kind === 'skip' ? cut.reason : '', /truncated in the recording \(5 of 10 bytes\)/);
  const ph = planReplay(entry({ body: '{"k":"[redacted:agent credential]"}' }));
  assert.match(ph.kind === 'skip' ? ph.reason : '', /redaction placeholder/);
});

test('replay skips a request whose path holds a placeholder and drops a header whose name holds one', () => {
  const inPath = planReplay(entry({ request: { ...entry({}).request, url: 'https://api.datadoghq.com/api/v1/foo/%5Bredacted%3Akey-shaped%20value%5D' } }));
  assert.match(inPath.kind === 'skip' ? inPath.reason : '', /path holds a redaction placeholder/);
  const inName = planReplay(
    entry({
      request: {
        ...entry({}).request,
        headers: [
          { name: 'X-[redacted:key-shaped value]', value: '1' },
          { name: 'X-Custom', value: 'keep' },
        ],
      },
    }),
  );
  assert.equal(inName.kind, 'send');
  assert.deepEqual(inName.kind === 'send' ? inName.headers.slice(0, 2) : [], ['X-Custom', 'keep']);
});

test('top-level key comparison: same keys match whatever the values; non-objects are not compared', () => {
  assert.equal(compareKeys('{"a":1,"b":2}', '{"b":3,"a":4}'), 'yes');
  assert.equal(compareKeys('{"a":1}', '{"errors":["Forbidden"]}'), 'no');
  assert.equal(compareKeys('[1]', '[2]'), '-');
  assert.equal(compareKeys(undefined, '{}'), '-');
});

test('prune never removes an open, recent, queued or (with a sink) unshipped session', () => {
  const cutoff = Date.parse('2026-12-01T00:00:00Z');
  const base = { cutoff, sinkConfigured: true, queued: false, journalExists: false };
  assert.deepEqual(pruneVerdict(summary({ shippedAt: 'x' }), base), { prune: true });
  assert.equal(pruneVerdict(summary({ status: 'open', shippedAt: 'x' }), base).prune, false);
  assert.equal(pruneVerdict(summary({ shippedAt: 'x' }), { ...base, journalExists: true }).prune, false);
  assert.equal(pruneVerdict(summary({ shippedAt: 'x', closedAt: '2026-12-02T00:00:00Z' }), base).prune, false);
  assert.equal(pruneVerdict(summary({ shippedAt: 'x' }), { ...base, queued: true }).prune, false);
  assert.equal(pruneVerdict(summary({}), base).prune, false);
  assert.deepEqual(pruneVerdict(summary({}), { ...base, sinkConfigured: false }), { prune: true });
});

test('upload backoff doubles from about a second and is capped at five minutes', () => {
  assert.equal(
    backoffMs(1, () => 1),
    2000,
  );
  assert.equal(
    backoffMs(3, () => 0),
    4000,
  );
  assert.equal(
    backoffMs(30, () => 1),
    300_000,
  );
});

test('the ls line prefilter picks only lines holding every filter text, and always drop records, from raw bytes', () => {
  const pre = compilePrefilter(linePrefilter({ claims: [['repository_id', '123']], grant: 'g' }))!;
  const other = '20261122T030000Z-ffffffff';
  const lines = [
    indexLine(summary({})),
    indexLine(summary({ id: other, grant: 'other' })),
    JSON.stringify({ id: other, dropped: true }),
    indexLine(summary({ id: other, claims: { repository_id: 123 } })),
    indexLine(summary({ id: other, claims: { repository_id: '1234' } })),
    JSON.stringify({ id: ID, dropped: true }),
  ];
  const picked = selectLines(Buffer.from(lines.join('\n')), pre);
  assert.deepEqual(picked, [lines[0], lines[2], lines[3], lines[5]], 'a numeric claim passes; a longer value or another grant does not');
  assert.deepEqual([...foldIndex(picked).keys()], [other], 'the drop of ID applies; other came back after its drop');
  assert.deepEqual(selectLines(Buffer.from(`${lines[0]}\n\n${lines[1]}\n`), null), [lines[0], lines[1]], 'without a prefilter every non-empty line');
  assert.equal(linePrefilter({}), null);
});

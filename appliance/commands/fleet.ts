// `airlock fleet ls|grep|export|verify`: the same questions as `airlock sessions …`, asked of the
// fleet's sink (recording.sink) instead of this machine's state directory. Results stream.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import { finished } from 'node:stream/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sinkReader } from '../fleet/sink-client.js';
import { entriesOfHarText, fleetRecords, type IndexRecord } from '../fleet/search.js';
import { harKey, sigKey } from '../fleet/layout.js';
import { keysFromDir, keysFromSink } from '../fleet/trusted-keys.js';
import { matchesExchange } from '../recording/har/index.js';
import { kidOfSignature, MAX_SIGNED_HAR_BYTES, verifyHarFile } from '../recording/integrity/index.js';
import { assertSessionId } from '../recording/journal/index.js';
import { filterFromArgs, queryFromArgs, type GrepArgs, type LsFilterArgs } from './sessions-search.js';
import { CliError, type CommonArgs } from './context.js';
import { configuredSink } from './fleet-trust.js';
import { verdictText } from './audit.js';
import { whoCell } from './session-who.js';
import { codeOr } from '../errors.js';

function write(out: NodeJS.WritableStream, text: string): Promise<void> {
  return new Promise((resolve, reject) => out.write(text, (err) => (err ? reject(err) : resolve())));
}

const COLS: readonly [string, number][] = [
  ['ID', 24],
  ['OPENED', 24],
  ['ENTRIES', 7],
  ['ISSUER', 12],
  ['GRANT', 18],
  ['SUB', 40],
  ['WHO', 0],
];
function row(cells: readonly string[]): string {
  return `${cells
    .map((c, i) => (COLS[i]![1] > 0 ? c.padEnd(COLS[i]![1]) : c))
    .join('  ')
    .trimEnd()}\n`;
}

/** Streams the fleet's sessions matching the filters, newest day first; --json prints one object per line. */
export async function fleetLsCommand(
  args: CommonArgs & LsFilterArgs & { json?: boolean; limit?: number | undefined },
  out: NodeJS.WritableStream = process.stdout,
): Promise<string | null> {
  const sink = configuredSink(args);
  const filter = filterFromArgs(args);
  const reader = sinkReader(sink);
  let n = 0;
  try {
    if (!args.json) await write(out, row(COLS.map(([h]) => h)));
    for await (const r of fleetRecords(reader, sink, filter, Date.now())) {
      await write(out, args.json ? `${JSON.stringify(r)}\n` : row([r.id, r.openedAt, String(r.entryCount), r.issuer, r.grant, r.sub, whoCell(r.claims)]));
      if (++n === args.limit) break;
    }
  } finally {
    reader.close();
  }
  if (n === 0 && !args.json) return `no sessions in ${reader.where} match`;
  return null;
}

/** Streams matching exchanges of the fleet's matching sessions; exit 1 when none. */
export async function fleetGrepCommand(args: GrepArgs, out: NodeJS.WritableStream = process.stdout): Promise<string | null> {
  const sink = configuredSink(args);
  const filter = filterFromArgs(args);
  const query = queryFromArgs(args);
  const only = args.session && args.session.length > 0 ? new Set(args.session) : null;
  const reader = sinkReader(sink);
  let matches = 0;
  try {
    for await (const r of fleetRecords(reader, sink, filter, Date.now())) {
      if (only && !only.has(r.id)) continue;
      const har = await reader.get(harKey(sink, r.id), MAX_SIGNED_HAR_BYTES);
      if (!har) continue;
      let n = 0;
      for await (const e of entriesOfHarText(har.toString('utf8'))) {
        n++;
        if (!matchesExchange(e, query)) continue;
        matches++;
        const hit = {
          session: r.id,
          entry: n,
          startedDateTime: e.startedDateTime,
          method: e.request.method,
          url: e.request.url,
          status: e.response.status,
          decision: e._airlock?.decision,
        };
        await write(out, args.json ? `${JSON.stringify(hit)}\n` : `${r.id}  #${n}  ${hit.method} ${hit.status} ${hit.url}\n`);
      }
    }
  } finally {
    reader.close();
  }
  if (matches === 0) {
    process.exitCode = 1;
    return args.json ? null : 'no matching exchanges';
  }
  return null;
}

async function fetchHar(args: CommonArgs & { id: string }): Promise<{ har: Buffer; sig: Buffer | null; where: string }> {
  assertSessionId(args.id);
  const sink = configuredSink(args);
  const reader = sinkReader(sink);
  try {
    const har = await reader.get(harKey(sink, args.id), MAX_SIGNED_HAR_BYTES);
    if (!har) throw new CliError('SESSION_NOT_FOUND', `no session ${args.id} in ${reader.where}: \`airlock fleet ls\` lists them`);
    return { har, sig: await reader.get(sigKey(sink, args.id), 64 * 1024), where: reader.where };
  } finally {
    reader.close();
  }
}

export async function fleetExportCommand(args: CommonArgs & { id: string; output?: string | undefined }): Promise<string | null> {
  const { har } = await fetchHar(args);
  if (!args.output || args.output === '-') {
    await write(process.stdout, har.toString('utf8'));
    return null;
  }
  const out = createWriteStream(args.output, { mode: 0o600 });
  out.end(har);
  await finished(out);
  return `wrote ${args.output}`;
}

/** Verifies a session using only the sink: its HAR, its .sig and the key the .sig names (or --keys DIR). */
export async function fleetVerifyCommand(args: CommonArgs & { id: string; keys?: string | undefined; json?: boolean }): Promise<string> {
  const { har, sig } = await fetchHar(args);
  const sink = configuredSink(args);
  const reader = sinkReader(sink);
  const trusted = args.keys !== undefined ? keysFromDir(args.keys) : keysFromSink(reader, sink);
  const dir = await mkdtemp(join(tmpdir(), 'airlock-verify-'));
  try {
    const file = join(dir, `${args.id}.har`);
    await writeFile(file, har, { mode: 0o600 });
    if (sig) await writeFile(`${file}.sig`, sig, { mode: 0o600 });
    const kid = sig ? kidOfSignature(sig.toString('utf8')) : null;
    const jwk = kid
      ? await trusted.find(kid).catch((err: unknown) => {
          throw new CliError(codeOr((err as { code?: unknown }).code, 'PUBLIC_KEY_INVALID'), (err as Error).message);
        })
      : null;
    const noKey =
      sig === null
        ? undefined
        : kid === null
          ? 'the .sig names no key (kid): it was not made by an Airlock appliance'
          : `signed by key ${kid}, which is not in the trusted set (${trusted.where}): KEY_UNTRUSTED. Trust it only if an appliance you run published it`;
    const r = await verifyHarFile(file, jwk, trusted.where, noKey);
    return verdictText({ ...r, file: `${reader.where}${args.id}.har` }, args.json === true);
  } finally {
    reader.close();
    await rm(dir, { recursive: true, force: true });
  }
}

export type { IndexRecord };

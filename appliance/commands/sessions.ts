import { createWriteStream } from 'node:fs';
import { copyFile } from 'node:fs/promises';
import { sessionPaths } from '../recording/journal/index.js';
import { finished } from 'node:stream/promises';
import { listNewest, showSession, exportSession, finalizeJournal, type SessionSummary } from '../recording/session/index.js';
import { IndexedSummary } from '../recording/index/index.js';
import { callControl } from '../control/control-client.js';
import { load, CliError, sessionsDir, controlSocket, type CommonArgs } from './context.js';
import { table } from './table.js';
import { whoCell } from './session-who.js';
import { VERSION } from '../version.js';
import { createLogger } from '../log.js';
import { filterFromArgs, type LsFilterArgs } from './sessions-search.js';
import { entryLines, entryRows } from './session-entries.js';

/** The table shows the newest sessions only unless asked: 100,000 rows help nobody at a terminal. */
const DEFAULT_TABLE_LIMIT = 100;

export async function sessionsLsCommand(args: CommonArgs & LsFilterArgs & { json?: boolean; limit?: number | undefined }): Promise<string> {
  const { config } = load(args);
  // JSON is for scripts: every match unless --limit says otherwise. Compact when large.
  const limit = args.limit ?? (args.json ? 0 : DEFAULT_TABLE_LIMIT);
  const { sessions: list, total } = await listNewest(sessionsDir(config.stateDir), filterFromArgs(args), limit);
  if (args.json) return list.length > 1_000 ? `[${list.map(summaryJson).join(',')}]` : JSON.stringify(list, null, 2);
  if (list.length === 0) return filtered(args) ? 'no sessions match these filters' : 'no sessions yet';
  const rows = table(
    ['ID', 'STATUS', 'OPENED', 'ENTRIES', 'ISSUER', 'GRANT', 'SUB', 'WHO'],
    list.map((s) => [s.id, s.status, s.openedAt, String(s.entryCount), s.issuer, s.grant, s.sub, whoCell(s.claims)]),
  );
  if (total === null) return `${rows}\n(the newest ${list.length}; older ones may match too: --limit N or --limit 0 for more, or narrow with filters)`;
  return list.length < total ? `${rows}\n(the newest ${list.length} of ${total}; --limit N or --limit 0 for all, or narrow with filters)` : rows;
}

/** Whether any ls filter was given: then an empty list means "nothing matches", not "nothing recorded". */
function filtered(args: LsFilterArgs): boolean {
  return Object.keys(filterFromArgs(args)).length > 0;
}

/** A row as compact JSON: an indexed one is its index line already, not parsed and serialized again. */
function summaryJson(s: SessionSummary): string {
  return s instanceof IndexedSummary ? s.json : JSON.stringify(s);
}

export async function sessionsShowCommand(args: CommonArgs & { id: string; json?: boolean }): Promise<string> {
  const { config } = load(args);
  const s = await showSession(sessionsDir(config.stateDir), args.id);
  const rows = await entryRows(sessionsDir(config.stateDir), args.id);
  if (args.json) return JSON.stringify({ ...s, entryCount: rows.length, entries: rows }, null, 2);
  const claims = Object.entries(s.claims).map(([k, v]) => `  ${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`);
  return [
    `id:          ${s.id}`,
    `status:      ${s.status}${s.closeReason ? ` (${s.closeReason})` : ''}`,
    `opened:      ${s.openedAt}`,
    `closed:      ${s.closedAt ?? '-'}`,
    `last active: ${s.lastActivityAt}`,
    `entries:     ${rows.length}`,
    `issuer:      ${s.issuer} (${s.iss})`,
    `sub:         ${s.sub}`,
    `grant:       ${s.grant} -> credential ${s.credential}`,
    'claims:',
    ...claims,
    'exchanges (#, time, method, URL, status the client got, decision):',
    ...entryLines(rows, s.id),
  ].join('\n');
}

export async function sessionsCloseCommand(args: CommonArgs & { id: string }): Promise<string> {
  const { config } = load(args);
  const reply = await callControl(controlSocket(config), 'POST', `/v1/sessions/${encodeURIComponent(args.id)}/close`);
  if (reply && reply.status === 200) return `closed ${args.id}: ${String(reply.body['har'])}`;
  if (reply && reply.status !== 404) throw new CliError('CLOSE_FAILED', reply.message ?? `server answered ${reply.status}`);
  // No server, or the server does not hold it open: finalize a journal left on disk, if any.
  const s = await showSession(sessionsDir(config.stateDir), args.id);
  if (s.status === 'closed') return `${args.id} is already closed`;
  if (reply) throw new CliError('SESSION_BUSY', `${args.id} is open but not held by the running server; try again`);
  const { cliSeal } = await import('../shipping/cli-seal.js');
  const seal = await cliSeal(config, createLogger({ destination: process.stderr, level: 'warn' }));
  const r = await finalizeJournal(sessionsDir(config.stateDir), args.id, 'closed by operator', { creatorVersion: VERSION, seal });
  return `closed ${args.id}: ${r.harPath} (${r.entryCount} entries)`;
}

export async function sessionsExportCommand(args: CommonArgs & { id: string; output?: string | undefined }): Promise<string | null> {
  const { config } = load(args);
  if (!args.output || args.output === '-') {
    await exportSession(sessionsDir(config.stateDir), args.id, process.stdout, { creatorVersion: VERSION });
    return null;
  }
  const dir = sessionsDir(config.stateDir);
  const out = createWriteStream(args.output, { mode: 0o600 });
  const kind = await exportSession(dir, args.id, out, { creatorVersion: VERSION });
  out.end();
  await finished(out);
  // The signature covers the closed session's exact bytes, which were just copied: it goes beside
  // them, so `sessions verify F` finds it. A snapshot of an open session has none yet.
  const sig =
    kind === 'har'
      ? await copySignature(dir, args.id, `${args.output}.sig`)
      : ` (a snapshot of an open session: not signed; \`airlock sessions close ${args.id}\` writes the signed HAR)`;
  return `wrote ${args.output}${sig}`;
}

/** Copies `<id>.har.sig` to `dest`; says what was done, or why there is no signature. */
async function copySignature(dir: string, id: string, dest: string): Promise<string> {
  try {
    await copyFile(sessionPaths(dir, id).sig, dest);
    return ` and ${dest}`;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return ` (the session has no signature file: \`airlock sessions verify\` will say so)`;
    throw err;
  }
}
